package secretbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// The original system encrypted with Python's cryptography.fernet; these
// tests check that its tokens decrypt here and ours there.

type pyVector struct {
	Key          string `json:"key"`
	Token        string `json:"token"`
	PlaintextB64 string `json:"plaintext_b64"`
}

// Fixed vectors made by testdata/make_python_vectors.py: checked on every
// machine, Python or not.
func TestPythonVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/python_fernet_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []pyVector }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for i, v := range file.Vectors {
		want, _ := base64.StdEncoding.DecodeString(v.PlaintextB64)
		got, err := mustKeyring(t, v.Key).Decrypt(v.Token)
		if err != nil {
			t.Errorf("vector %d: %v", i, err)
		} else if !bytes.Equal(got, want) {
			t.Errorf("vector %d: Decrypt = %q, want %q", i, got, want)
		}
		// As a previous key too: rotation reads Python's old data.
		if !mustKeyring(t, keyA, v.Key).NeedsRotation(v.Token) {
			t.Errorf("vector %d: NeedsRotation = false under a previous key", i)
		}
	}
}

// pythonFernet returns a python3 that can import cryptography.fernet. When
// none is found the test fails under CI=true (where scripts/install-deps.sh
// must have installed Debian's python3-cryptography) and is skipped
// elsewhere.
func pythonFernet(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(py); err == nil {
			if exec.Command(path, "-c", "import cryptography.fernet").Run() == nil {
				return path
			}
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("python3 with the cryptography module is required when CI=true: apt-get install -y python3-cryptography")
	}
	t.Skip("python3 with cryptography not found (apt-get install -y python3-cryptography)")
	return ""
}

// runPython runs script with the JSON encoding of in on standard input
// (keys never travel on a command line) and decodes its JSON output.
func runPython(t *testing.T, py, script string, in, out any) {
	t.Helper()
	data, _ := json.Marshal(in)
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("python output %q: %v", res, err)
	}
}

var interopPlaintexts = [][]byte{
	{},
	[]byte("JBSWY3DPEHPK3PXP"),
	[]byte("ada.lovelace@example.org"),
	[]byte("Übersetzung – 翻訳"),
	bytes.Repeat([]byte{0, 0xff, 0x80}, 300),
}

func TestGoTokensDecryptInPython(t *testing.T) {
	py := pythonFernet(t)
	kr := mustKeyring(t, GenerateKey(), keyB)
	var in []pyVector
	for _, p := range interopPlaintexts {
		tok, err := kr.Encrypt(p)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, pyVector{Key: kr.keys[0].Encode(), Token: tok})
	}
	const script = `
import base64, json, sys
from cryptography.fernet import Fernet
out = [base64.b64encode(Fernet(v["key"].encode()).decrypt(v["token"].encode())).decode() for v in json.load(sys.stdin)]
json.dump(out, sys.stdout)
`
	var out []string
	runPython(t, py, script, in, &out)
	for i, p := range interopPlaintexts {
		if got, _ := base64.StdEncoding.DecodeString(out[i]); !bytes.Equal(got, p) {
			t.Errorf("plaintext %d: Python decrypted %q, want %q", i, got, p)
		}
	}
}

func TestPythonTokensDecryptInGo(t *testing.T) {
	py := pythonFernet(t)
	var in []string
	for _, p := range interopPlaintexts {
		in = append(in, base64.StdEncoding.EncodeToString(p))
	}
	// Python makes the key too: its generate_key form must parse here; and
	// MultiFernet.rotate output (Python's rotation) must decrypt.
	const script = `
import base64, json, sys
from cryptography.fernet import Fernet, MultiFernet
old, new = Fernet.generate_key(), Fernet.generate_key()
toks = [Fernet(old).encrypt(base64.b64decode(p)).decode() for p in json.load(sys.stdin)]
rotated = MultiFernet([Fernet(new), Fernet(old)]).rotate(toks[2].encode()).decode()
json.dump({"old": old.decode(), "new": new.decode(), "tokens": toks, "rotated": rotated}, sys.stdout)
`
	var out struct {
		Old, New string
		Tokens   []string
		Rotated  string
	}
	runPython(t, py, script, in, &out)
	kr := mustKeyring(t, out.New, out.Old)
	for i, p := range interopPlaintexts {
		got, err := kr.Decrypt(out.Tokens[i])
		if err != nil || !bytes.Equal(got, p) {
			t.Errorf("token %d: Decrypt = %q, %v; want %q", i, got, err, p)
		}
		if !kr.NeedsRotation(out.Tokens[i]) {
			t.Errorf("token %d: NeedsRotation = false for a token under the previous key", i)
		}
	}
	if got, err := kr.Decrypt(out.Rotated); err != nil || !bytes.Equal(got, interopPlaintexts[2]) || kr.NeedsRotation(out.Rotated) {
		t.Errorf("MultiFernet.rotate token: Decrypt = %q, %v; NeedsRotation = %v", got, err, kr.NeedsRotation(out.Rotated))
	}
}
