"""
Run MontagePy calls each in a forked child, for tests of hostile inputs.

Some of MontagePy 2.3.0's error paths abort the process (mViewer after an
earlier success) or crash it (mViewer on ``nan`` ranges), so `forked_calls`
runs every call in its own child of one helper process and returns what
came back: the dict (``status``, ``msg`` and any numbers asked for), or
``{"raised": name}`` or ``{"crashed": True}``. The caller's test must be
marked ``@pytest.mark.montage``.
"""

import json
import subprocess
import sys

__all__ = ["forked_calls"]

_SCRIPT = r"""
import json, os, signal, sys
import MontagePy.main as m
keep = set(json.loads(sys.argv[2]))
out = []
for name, args, kwargs in json.loads(sys.argv[1]):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        signal.alarm(30)
        try:
            d = getattr(m, name)(*args, **kwargs)
            d = {k: v.decode("latin-1") if isinstance(v, bytes) else v
                 for k, v in d.items() if k in keep}
        except Exception as exc:
            d = {"raised": type(exc).__name__}
        os.write(w, json.dumps(d).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    out.append(data.decode() or '{"crashed": true}')
print(json.dumps(out))
"""


def forked_calls(calls, keep=("status", "msg")) -> list[dict]:
    """
    Run ``(name, args, kwargs)`` MontagePy calls, each in a forked child.

    Parameters
    ----------
    calls : list of (str, list, dict)
        Function name in ``MontagePy.main``, arguments (JSON-able).
    keep : sequence of str
        Keys of the returned dicts kept (``msg`` comes back as bytes).

    Returns
    -------
    list of dict
        One per call, in order.
    """
    import pytest

    pytest.importorskip("MontagePy.main", exc_type=ImportError)
    res = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(calls), json.dumps(list(keep))],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    out = [json.loads(s) for s in json.loads(res.stdout.splitlines()[-1])]
    for d in out:
        if "msg" in d:
            d["msg"] = d["msg"].encode("latin-1")
    return out
