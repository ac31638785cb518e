#!/usr/bin/env bash
# Print the path of a Python interpreter of the wanted minor version(s), or explain what to install.
# Usage: scripts/find-python.sh 3.10            -> exactly 3.10 (the assistant environment)
#        scripts/find-python.sh 3.13 3.12 3.11  -> the first found, in that order (the staff app)
set -u
want=("$@")
candidates() {
  local v="$1"
  command -v "python$v" 2>/dev/null
  if command -v pyenv >/dev/null 2>&1; then
    for d in "$(pyenv root)"/versions/"$v"*; do [ -x "$d/bin/python" ] && echo "$d/bin/python"; done
  fi
  for d in "$HOME"/.pyenv/versions/"$v"*; do [ -x "$d/bin/python" ] && echo "$d/bin/python"; done
  for p in /usr/bin/python"$v" /usr/local/bin/python"$v"; do [ -x "$p" ] && echo "$p"; done
  command -v python3 2>/dev/null
  command -v python 2>/dev/null
}
for v in "${want[@]}"; do
  while read -r py; do
    [ -n "$py" ] || continue
    got=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    if [ "$got" = "$v" ] && "$py" -c 'import venv, ensurepip' 2>/dev/null; then
      echo "$py"; exit 0
    fi
  done < <(candidates "$v")
done
{
  echo "error: no Python ${want[*]} interpreter with venv support was found."
  echo "  Install one of them, for example:"
  echo "    pyenv install ${want[0]}        (https://github.com/pyenv/pyenv), or"
  echo "    apt-get install python${want[0]} python${want[0]}-venv   (Debian/Ubuntu, where packaged)"
  echo "  then run the make command again. Nothing was created."
} >&2
exit 1
