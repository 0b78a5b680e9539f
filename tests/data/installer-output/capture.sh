set -u
export UV_PYTHON_DOWNLOADS=never PYTHONDONTWRITEBYTECODE=1
UV=${UV:-.venv/bin/uv}
run() { # name pyver reqfile extra...
  name=$1; pv=$2; req=$3; shift 3
  PY=/root/.pyenv/versions/$pv*/bin/python$pv; PY=$(echo $PY)
  rm -rf t-$name-uv t-$name-pip
  $UV pip install --target t-$name-uv --python $PY --python-platform x86_64-manylinux_2_34 --python-version $pv --link-mode hardlink --no-progress -r $req "$@" > $name.uv.txt 2>&1; echo "uv $name rc=$?"
  abi=cp${pv/./}
  $PY -m pip install --target t-$name-pip --no-compile --no-warn-script-location --disable-pip-version-check --no-input --progress-bar off --python-version $pv --implementation cp --abi $abi --abi abi3 --abi none --platform manylinux_2_34_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 "$@" -r $req > $name.pip.txt 2>&1; echo "pip $name rc=$?"
}
echo 'pydantic-core==2.10.1' > build.txt
run buildfail 3.13 build.txt --no-deps
echo 'idna==3.10 --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000' > hash.txt
run hash 3.12 hash.txt --no-deps --require-hashes
printf -- '--index-url http://127.0.0.1:9/simple\nidna==3.10\n' > net.txt
run network 3.12 net.txt --no-deps
printf 'requests==2.32.3\nurllib3==1.20\n' > conflict.txt
run conflict 3.12 conflict.txt --only-binary=:all:
echo 'requests==99.0' > missing.txt
run missing 3.12 missing.txt --no-deps
echo 'ujson==1.35' > nowheel.txt
run nowheel 3.12 nowheel.txt --no-deps --only-binary=:all:
