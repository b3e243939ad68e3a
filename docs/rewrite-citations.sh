#!/usr/bin/env bash
# rewrite-citations.sh: rewrite the older citation forms in the comments of the
# module's Go files into the forms of docs/ (see docs/DESIGN.md):
#
#   ref §6.3                       -> kind-offline.md 6.3
#   ref §5, §10 B4                 -> kind-offline.md 5, 10 B4
#   reference/protocols.md section 3 -> protocols.md 3   (likewise clients.md)
#
# and kindenv/doc.go's sentence about the "ref §N" form. Only lines holding a
# "//" comment are touched. Run from anywhere inside the repository; then run
# gofmt -l . and go test ./docs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mapfile -t files < <(git ls-files '*.go' | grep -v -e '^docs/' -e '/testdata/')

sed -i -E \
  -e '/\/\//s/ref §([0-9])/kind-offline.md \1/g' \
  -e '/\/\//s/(kind-offline\.md [0-9][0-9.]*( (B|point )[0-9]+)?), §([0-9])/\1, \4/g' \
  -e '/\/\//s#reference/(protocols|clients)\.md section ([0-9])#\1.md \2#g' \
  "${files[@]}"

# kindenv/doc.go: the sentence that explains the short form spans two lines.
sed -i -E \
  -e '/^\/\/ Facts it relies on are in the shared reference kind-offline\.md \(section$/{
N
s#^// Facts it relies on are in the shared reference kind-offline\.md \(section\n// numbers are cited as "ref §N"\)\.#// Facts it relies on are in docs/reference/kind-offline.md, cited by section\n// number ("kind-offline.md 6.3").#
}' \
  kindenv/doc.go

if grep -n 'ref §' "${files[@]}"; then
  echo "rewrite-citations.sh: some \"ref §\" citations are left (above)" >&2
  exit 1
fi
