"""A fake solver worker (same arguments and output as adcorrect.smt.worker) for tests.

The file's line "; fake: BEHAVIOUR" says what to do: answer (the file's :status, after
sleeping the given seconds, e.g. "answer 0.1"), crash (abort), kill (SIGKILL itself),
memory (allocate far beyond any limit), garbage (print something that is not JSON),
badjson (JSON without a valid verdict), silent (print nothing, exit 0).  With
FAKE_PID_DIR set, it first writes a file <pid>.pid there (holding its working folder).
"""

import json
import os
import re
import signal
import sys
import time

solver, path, ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
if os.environ.get("FAKE_PID_DIR"):  # tell the test this process's id
    with open(os.path.join(os.environ["FAKE_PID_DIR"], f"{os.getpid()}.pid"), "w") as fh:
        fh.write(os.getcwd())
with open(path, encoding="utf-8") as fh:
    text = fh.read()
m = re.search(r"^; fake: (\w+)\s*([\d.]*)", text, re.MULTILINE)
behaviour, arg = (m.group(1), m.group(2)) if m else ("answer", "")
status = re.search(r"\(set-info :status (\w+)\)", text).group(1)
if behaviour == "answer":
    time.sleep(float(arg or 0))
    print(json.dumps({"verdict": status, "seconds": 0.25, "message": f"fake {solver}"}))
elif behaviour == "crash":
    os.abort()
elif behaviour == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
elif behaviour == "memory":
    blocks = [bytearray(64 * 1024 * 1024) for _ in range(1024)]  # 64 GiB
    print(json.dumps({"verdict": "unsat", "seconds": 0.25}))
elif behaviour == "garbage":
    print("\x00\x01 segfault? {not json")
elif behaviour == "badjson":
    print(json.dumps({"verdict": "maybe", "seconds": "soon"}))
elif behaviour == "silent":
    pass
