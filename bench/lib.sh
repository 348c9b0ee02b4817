# shellcheck shell=bash
# Shared by the bench scripts; source it after setting $tmp.

# big BOOK N: a book of N copies of BOOK's chapters (the 300k-word case),
# built under $tmp/big; prints its path.
big() {
	local src=$1 n=$2 dst=${tmp:?set tmp before sourcing lib.sh}/big
	rm -rf "$dst"
	mkdir -p "$dst/chapters"
	cp "$src/metadata.yaml" "$dst/"
	[ -f "$src/cover.jpg" ] && cp "$src/cover.jpg" "$dst/"
	[ -d "$src/assets" ] && cp -r "$src/assets" "$dst/"
	for i in $(seq "$n"); do
		for f in "$src"/chapters/*.md; do cp "$f" "$dst/chapters/$i-$(basename "$f")"; done
	done
	echo "$dst"
}
