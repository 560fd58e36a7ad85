"""Run inside the image under test (python -c): report what the titanic_image checks assert."""

import importlib.util
import json
import os
import sys

forbidden = set(sys.argv[1:])
found = []
for top in ("/bin", "/sbin", "/usr", "/opt", "/app", "/etc"):
    for root, _dirs, files in os.walk(top):
        found.extend(os.path.join(root, f) for f in files if f in forbidden)
try:
    with open("/titanic-probe", "w") as handle:
        handle.write("x")
    root_writable = True
except OSError:
    root_writable = False
print(
    json.dumps(
        {
            "uid": os.getuid(),
            "gid": os.getgid(),
            "root_writable": root_writable,
            "forbidden_found": sorted(set(found)),
            "pip_importable": importlib.util.find_spec("pip") is not None,
            "setuptools_importable": importlib.util.find_spec("setuptools") is not None,
        }
    )
)
