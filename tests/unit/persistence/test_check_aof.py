"""hush-check-aof (hush.persistence.check_aof): what it finds in damaged files, what --fix
cuts, and the same verdicts, report lines and exit statuses as Redis 7.0's
redis-check-aof on the same files."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hush.persistence.aof import AOFError, encode
from hush.persistence.check_aof import check, main, run
from hush.persistence.loader import load
from tests.support import REPO, FakeServer

REDIS_CHECK_AOF = shutil.which("redis-check-aof")

GOOD = encode([b"SELECT", b"0"]) + encode([b"SET", b"a", b"1"])
MULTI = encode([b"MULTI"]) + encode([b"SET", b"b", b"2"])
EXEC = encode([b"EXEC"])

#: name -> contents: valid files first, then damaged ones.
FILES = {
    "good": GOOD,
    "transaction": GOOD + MULTI + EXEC,
    "annotated": b"#TS:1700000000\r\n" + GOOD,
    "annotated_end": GOOD + b"#TS:1700000000\r\n",
    "annotated_garbage": GOOD + b"#TS:1700000000\r\ngarbage\r\n",
    "annotated_truncated": GOOD + b"#TS:1700000000\r\n" + encode([b"SET", b"b", b"12"])[:-3],
    "empty": b"",
    "truncated": GOOD + encode([b"SET", b"b", b"12"])[:-3],
    "truncated_header": GOOD + b"*3\r\n$3\r\nSE",
    "garbage": GOOD + b"garbage\r\n" + GOOD,
    "bad_length": GOOD + b"*3\r\n$3\r\nSET\r\n$x\r\nb\r\n",
    "open_multi": GOOD + MULTI,
    "nested_multi": GOOD + encode([b"MULTI"]) + MULTI + EXEC,
    "exec_alone": GOOD + EXEC,
}


def test_valid_files():
    for name in ("good", "transaction", "annotated", "annotated_end"):
        report = check(FILES[name], name)
        assert report.valid and not report.error and not report.format_error, name
        # Lines of commands, as redis-check-aof counts them: not annotations.
        commands = b"".join(line for line in FILES[name].splitlines(True)
                            if not line.startswith(b"#"))
        assert report.line == commands.count(b"\n") + 1


@pytest.mark.parametrize(("name", "why"), [
    ("truncated", "Unexpected end of file"),
    ("truncated_header", "Unexpected end of file"),
    ("bad_length", "Bad file format"),
    ("open_multi", "Reached EOF before reading EXEC for MULTI"),
    ("nested_multi", "Unexpected MULTI in AOF nested_multi"),
    ("exec_alone", "Unexpected EXEC in AOF exec_alone"),
])
def test_damaged_files_are_good_up_to_the_last_whole_command(name, why):
    report = check(FILES[name], name)
    assert not report.valid
    assert report.ok_up_to == len(GOOD)
    assert why in report.error
    assert report.error.startswith("0x")


def test_something_else_than_a_command_is_a_format_error():
    report = check(FILES["garbage"], "garbage")
    assert report.format_error and not report.error
    assert (report.ok_up_to, report.line) == (len(GOOD), GOOD.count(b"\n") + 1)


def _run(path: Path, fix: bool, answer: str = "") -> tuple[int, str]:
    out = io.StringIO()
    status = run(str(path), fix, out, io.StringIO(answer))
    return status, out.getvalue()


def test_fix_cuts_the_file_back_after_asking(tmp_path):
    path = tmp_path / "appendonly.aof"
    path.write_bytes(FILES["truncated"])
    status, out = _run(path, fix=False)
    assert status == 1
    assert out.endswith(f"AOF {path} is not valid. Use the --fix option to try fixing it.\n")
    status, out = _run(path, fix=True, answer="n\n")
    assert status == 1 and out.endswith("Continue? [y/N]: Aborting...\n")
    assert path.read_bytes() == FILES["truncated"]
    status, out = _run(path, fix=True, answer="y\n")
    assert status == 0
    assert f"This will shrink the AOF {path} from {len(FILES['truncated'])} bytes" in out
    assert out.endswith(f"Successfully truncated AOF {path}\n")
    assert path.read_bytes() == GOOD
    assert _run(path, fix=False) == (0, (
        "Start checking Old-Style AOF\n"
        f"AOF analyzed: filename={path}, size={len(GOOD)}, ok_up_to={len(GOOD)}, "
        f"ok_up_to_line=13, diff=0\nAOF {path} is valid\n"))


def test_files_hush_cannot_check_or_open(tmp_path):
    missing = tmp_path / "missing.aof"
    assert _run(missing, fix=False) == (
        1, f"Cannot open file {missing}: No such file or directory\n")
    preamble = tmp_path / "preamble.aof"
    preamble.write_bytes(b"REDIS0009\xfa\x09redis-ver")
    status, out = _run(preamble, fix=True, answer="y\n")
    assert status == 1 and "RDB preamble" in out
    manifest = tmp_path / "appendonly.aof.manifest"
    manifest.write_bytes(b"file appendonly.aof.1.base.rdb seq 1 type b\n")
    status, out = _run(manifest, fix=False)
    assert status == 1 and "manifest" in out


@pytest.mark.parametrize("argv", [[], ["a", "b"], ["--fix"], ["--fix", "--fix"],
                                  ["--truncate-to-timestamp", "1", "a"]])
def test_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 1
    assert capsys.readouterr().out == "Usage: hush-check-aof [--fix] <file.aof>\n"


def test_the_load_error_names_hush_check_aof_and_its_fix_loads(tmp_path):
    path = tmp_path / "appendonly.aof"
    path.write_bytes(FILES["garbage"])
    server = FakeServer(appendonly=True, dir=str(tmp_path))
    with pytest.raises(AOFError, match=f"repair it with hush-check-aof --fix {path}"):
        load(server.service, str(path))
    assert _run(path, fix=True, answer="y\n")[0] == 0
    assert load(server.service, str(path)) == 2
    assert server.client().call("GET", "a") == b"1"


def test_a_truncated_file_refused_by_aof_load_truncated_names_the_fix(tmp_path):
    path = tmp_path / "appendonly.aof"
    path.write_bytes(FILES["truncated"])
    server = FakeServer(appendonly=True, dir=str(tmp_path))
    with pytest.raises(AOFError, match=f"repair it with hush-check-aof --fix {path}"):
        load(server.service, str(path), truncated_ok=False)


# -- against redis-check-aof -------------------------------------------------------


def _both(tmp_path: Path, name: str, *args: str, answer: str = "") -> list[tuple]:
    """Run redis-check-aof and hush-check-aof on copies of one file, in the
    same directory under the same name; their status, output lines and file."""
    results = []
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for tool, command in (("redis", [REDIS_CHECK_AOF]),
                          ("hush", [sys.executable, "-m", "hush.persistence.check_aof"])):
        directory = tmp_path / tool
        directory.mkdir(exist_ok=True)
        if name in FILES:
            (directory / f"{name}.aof").write_bytes(FILES[name])
        done = subprocess.run([*command, *args, f"{name}.aof"], cwd=directory, env=env,
                              input=answer, capture_output=True, text=True, timeout=60)
        path = directory / f"{name}.aof"
        results.append((done.returncode, done.stdout.splitlines(),
                        path.read_bytes() if path.exists() else None))
    return results


@pytest.mark.differential
@pytest.mark.skipif(REDIS_CHECK_AOF is None, reason="redis-check-aof is not installed")
@pytest.mark.parametrize("name", [*FILES, "missing"])
def test_same_verdict_as_redis_check_aof(tmp_path, name):
    (redis_status, redis_lines, _), (hush_status, hush_lines, _) = _both(tmp_path, name)
    assert hush_status == redis_status
    # The same lines but for the error's wording (its offset too, for a
    # truncation: redis-check-aof names the read that failed, Hush the command).
    assert len(hush_lines) == len(redis_lines), (hush_lines, redis_lines)
    for hush_line, redis_line in zip(hush_lines, redis_lines, strict=True):
        if redis_line.startswith("0x"):
            assert hush_line.startswith("0x")
            if "truncated" not in name:
                assert hush_line[:20] == redis_line[:20]
            if "MULTI" in redis_line or "EXEC" in redis_line:
                assert hush_line == redis_line
        else:
            assert hush_line == redis_line


@pytest.mark.differential
@pytest.mark.skipif(REDIS_CHECK_AOF is None, reason="redis-check-aof is not installed")
@pytest.mark.parametrize("answer", ["y\n", "n\n", ""])
@pytest.mark.parametrize("name", ["good", "truncated", "garbage", "open_multi", "nested_multi",
                                  "annotated_garbage", "annotated_truncated"])
def test_same_fix_as_redis_check_aof(tmp_path, name, answer):
    redis_result, hush_result = _both(tmp_path, name, "--fix", answer=answer)
    assert hush_result[0] == redis_result[0]  # exit status
    assert hush_result[2] == redis_result[2]  # the file afterwards
    assert hush_result[1][-1] == redis_result[1][-1]


def _preamble() -> bytes:
    """An RDB file of one key, as an AOF rewrite with aof-use-rdb-preamble writes it."""
    import io

    from hush.formats.rdb_file import RdbFileWriter

    out = io.BytesIO()
    writer = RdbFileWriter(out)
    writer.write_header(ctime=1700000000, used_mem=0, aof_base=True)
    writer.select_db(0, 1, 0)
    writer.write_key(b"k", "list", [b"a", b"b"])
    writer.finish()
    return out.getvalue()


@pytest.mark.differential
@pytest.mark.skipif(REDIS_CHECK_AOF is None, reason="redis-check-aof is not installed")
@pytest.mark.parametrize("tail, fix", [
    (FILES["good"], False),
    (FILES["truncated"], False),
    (FILES["truncated"], True),
])
def test_rdb_preamble_files_get_redis_check_aofs_verdict(tmp_path, tail, fix):
    """After the preamble the same lines as redis-check-aof (which also prints
    redis-check-rdb's report of the preamble), the same status and file."""
    FILES["preamble"] = _preamble() + tail
    try:
        args = ("--fix",) if fix else ()
        (redis_status, redis_lines, redis_file), (hush_status, hush_lines, hush_file) = _both(
            tmp_path, "preamble", *args, answer="y\n")
    finally:
        del FILES["preamble"]
    assert hush_status == redis_status
    ok = "RDB preamble is OK, proceeding with AOF tail..."
    redis_tail = redis_lines[redis_lines.index(ok):]
    hush_tail = hush_lines[hush_lines.index(ok):]
    assert [line for line in hush_tail if not line.startswith("0x")] == [
        line for line in redis_tail if not line.startswith("0x")]
    assert hush_file == redis_file
