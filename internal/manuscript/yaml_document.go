package manuscript

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlDoc is one parsed YAML mapping, checked against the limits.
type yamlDoc struct {
	file      string
	firstLine int // line of the file where the YAML text starts
	root      *yaml.Node
}

// parseYAML parses data as one YAML document whose top level is a mapping
// (or empty). It refuses aliases outright: metadata never needs them, and
// refusing them removes the "billion laughs" expansion bomb at its root
// rather than trusting a ratio heuristic. Node count and depth are bounded
// too, so the later walk over the tree is cheap whatever the input.
func parseYAML(file string, firstLine int, data []byte, lim Limits) (*yamlDoc, error) {
	d := &yamlDoc{file: file, firstLine: firstLine}
	if len(bytes.TrimSpace(data)) == 0 {
		return d, nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, yamlError(file, firstLine, err)
	}
	if n.Kind == 0 { // only comments
		return d, nil
	}
	count := 0
	if err := d.checkNode(&n, 0, &count, lim); err != nil {
		return nil, err
	}
	root := &n
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return d, nil
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return d, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, d.errorAt(root, "want a mapping of keys to values, got %s", kindName(root))
	}
	d.root = root
	return d, nil
}

func (d *yamlDoc) checkNode(n *yaml.Node, depth int, count *int, lim Limits) error {
	*count++
	if *count > lim.MaxYAMLNodes {
		return d.errorAt(n, "too many YAML nodes (limit %d)", lim.MaxYAMLNodes)
	}
	if depth > lim.MaxYAMLDepth {
		return d.errorAt(n, "YAML nested too deeply (limit %d)", lim.MaxYAMLDepth)
	}
	if n.Kind == yaml.AliasNode {
		return d.errorAt(n, "YAML aliases (*%s) are not allowed", n.Value)
	}
	for _, c := range n.Content {
		if err := d.checkNode(c, depth+1, count, lim); err != nil {
			return err
		}
	}
	return nil
}

func (d *yamlDoc) line(n *yaml.Node) int { return n.Line + d.firstLine - 1 }

func (d *yamlDoc) errorAt(n *yaml.Node, format string, args ...any) *Error {
	return errorf(d.file, d.line(n), format, args...)
}

// each calls fn for every key of the top-level mapping, in file order.
func (d *yamlDoc) each(fn func(key string, v *yaml.Node) error) error {
	if d.root == nil {
		return nil
	}
	return eachPair(d.root, fn)
}

func eachPair(m *yaml.Node, fn func(key string, v *yaml.Node) error) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if err := fn(m.Content[i].Value, m.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// str decodes a scalar into a string. Numbers and dates are taken as written
// ("1831", "11"), which is what a book's metadata means by them.
func (d *yamlDoc) str(key string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", d.errorAt(v, "%s: want a text value, got %s", key, kindName(v))
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(v.Value), nil
}

// strs decodes a scalar or a list of scalars, so "author: A" and
// "author: [A, B]" both work, as in pandoc.
func (d *yamlDoc) strs(key string, v *yaml.Node) ([]string, error) {
	if v.Kind == yaml.ScalarNode {
		s, err := d.str(key, v)
		if err != nil || s == "" {
			return nil, err
		}
		return []string{s}, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, d.errorAt(v, "%s: want a text or a list of texts, got %s", key, kindName(v))
	}
	var out []string
	for _, item := range v.Content {
		s, err := d.str(key, item)
		if err != nil {
			return nil, err
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// mapping checks that v is a mapping (or empty) and calls fn for its pairs.
func (d *yamlDoc) mapping(key string, v *yaml.Node, fn func(key string, v *yaml.Node) error) error {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return d.errorAt(v, "%s: want a mapping, got %s", key, kindName(v))
	}
	return eachPair(v, fn)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	default:
		return "a text value"
	}
}
