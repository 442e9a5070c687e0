"""Running the command line in-process in tests: the status, standard output and standard error."""

from neuralcore.cli import main

ERROR = "neuralcore: error: "


def cli(capsys, *args):
    """Run the command in-process: (status, stdout, stderr); never a traceback."""
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return status, out, err


def fails(capsys, *args, match):
    """Status 1 and exactly one error line that contains ``match`` (a string, or each string of a list)."""
    status, out, err = cli(capsys, *args)
    lines = err.strip().splitlines()
    assert status == 1, (status, out, err)
    assert len(lines) == 1 and lines[0].startswith(ERROR), err
    for part in [match] if isinstance(match, str) else match:
        assert part in lines[0], lines[0]
    return lines[0]
