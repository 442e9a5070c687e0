"""Adversarial matrix, area "files we write or read" (issue 11): one test per attack, the attack in the test id.

Writes: model files, prediction CSVs and plots all go through ``neuralcore.files``; the
attacks aim at what stands at the destination (links, special files, folders), at
permissions, at interruptions, and at ``save`` writing what ``load`` would refuse.
Reads: ``neuralcore.load`` meets tampered, hostile and special files.
"""

import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import cli, files, persistence
from neuralcore.estimators import LogisticRegression, TwoLayerNet

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = (X[:, 0] - X[:, 1] > 0).astype(int)
ROOT = Path(__file__).resolve().parents[1]


def _fit(Estimator=TwoLayerNet, backend="numpy", **kwargs):
    extra = {"hidden_units": 3} if Estimator is TwoLayerNet else {}
    return Estimator(max_iter=5, random_state=0, backend=backend, **extra, **kwargs).fit(X, Y)


@pytest.fixture(scope="module")
def model():
    return _fit()


@pytest.fixture(scope="module")
def xor_model():
    return TwoLayerNet(3, max_iter=5, random_state=0, backend="numpy").fit(*nc.datasets.make_xor(n_samples=20))


@pytest.fixture
def xor_file(xor_model, tmp_path):
    return Path(xor_model.save(tmp_path / "xor.npz"))


@pytest.fixture
def good_file(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    return path


def _no_temp_files(folder):
    return not [name for name in os.listdir(folder) if name.startswith(files.TEMP_PREFIX)]


def _arrays(path):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return arrays, json.loads(arrays["metadata"].tobytes())


def _rewrite(source, target, change):
    """Write ``target``: the arrays and document of ``source``, changed by ``change(arrays, document)``."""
    arrays, document = _arrays(source)
    change(arrays, document)
    arrays["metadata"] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    np.savez(target, **arrays)
    return target


# ============================================================================ writing


class TestWhatStandsAtTheDestination:
    def test_symlink_stays_a_symlink_and_its_target_is_replaced(self, model, tmp_path):
        real = tmp_path / "real.npz"
        real.write_bytes(b"old")
        link = tmp_path / "link.npz"
        link.symlink_to(real)
        model.save(link)
        assert link.is_symlink() and os.readlink(link) == str(real)
        assert nc.load(real).n_features_in_ == 3 and _no_temp_files(tmp_path)

    def test_dangling_symlink_writes_its_target(self, model, tmp_path):
        link = tmp_path / "link.npz"
        link.symlink_to(tmp_path / "target.npz")
        model.save(link)
        assert link.is_symlink() and nc.load(tmp_path / "target.npz").n_features_in_ == 3

    def test_fifo_is_refused_not_replaced(self, model, tmp_path):
        fifo = tmp_path / "pipe.npz"
        os.mkfifo(fifo)
        with pytest.raises(OSError, match=r"pipe\.npz: it is a FIFO"):
            model.save(fifo)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and _no_temp_files(tmp_path)

    def test_socket_is_refused_not_replaced(self, model, tmp_path):
        path = tmp_path / "s.npz"
        server = socket.socket(socket.AF_UNIX)
        try:
            server.bind(str(path))
            with pytest.raises(OSError, match="it is a socket"):
                model.save(path)
            assert stat.S_ISSOCK(os.lstat(path).st_mode)
        finally:
            server.close()

    def test_device_file_is_refused_not_replaced(self, model, tmp_path):
        device = _device(tmp_path)
        with pytest.raises(OSError, match="it is a character device"):
            model.save(device)
        assert stat.S_ISCHR(os.lstat(device).st_mode)

    def test_symlink_to_a_device_is_refused(self, model, tmp_path):
        device = _device(tmp_path)
        link = tmp_path / "link.npz"
        link.symlink_to(device)
        with pytest.raises(OSError, match=rf"link\.npz \(a link to {device}\): it is a character device"):
            model.save(link)
        assert link.is_symlink() and stat.S_ISCHR(os.lstat(device).st_mode)

    def test_directory_is_refused(self, model, tmp_path):
        with pytest.raises(IsADirectoryError, match="it is a directory"):
            model.save(tmp_path)

    def test_read_only_file_is_not_replaced(self, model, good_file):
        before = good_file.read_bytes()
        os.chmod(good_file, 0o444)
        with pytest.raises(PermissionError, match=r"m\.npz: the file is read-only"):
            model.save(good_file)
        assert good_file.read_bytes() == before

    def test_empty_path(self, model):
        with pytest.raises(ValueError, match="model file path is empty"):
            model.save("")

    def test_folder_is_really_a_file(self, model, tmp_path):
        (tmp_path / "plain").write_text("x")
        with pytest.raises(NotADirectoryError, match=r"plain/m\.npz.*plain is a file, not a folder"):
            model.save(tmp_path / "plain" / "m.npz")

    def test_read_only_folder_names_the_users_path(self, tmp_path):
        import tempfile

        folder = Path(tempfile.mkdtemp())  # outside pytest's private folder: an unprivileged user can reach it
        os.chmod(folder, 0o555)
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through the pipe
            try:
                if os.geteuid() == 0:  # root writes anywhere: ask as an unprivileged user
                    os.setgid(65534)
                    os.setuid(65534)
                files.check_output_path(folder / "m.npz", what="model file")
                report = "no error"
            except BaseException as exc:
                report = f"{type(exc).__name__}: {exc}"
            os.write(write, report.encode())
            os._exit(0)
        os.close(write)
        message = os.read(read, 10_000).decode()
        os.close(read)
        os.waitpid(child, 0)
        os.rmdir(folder)
        assert message.startswith("PermissionError: ") and f"{folder}/m.npz" in message, message
        assert "cannot create a file" in message and files.TEMP_PREFIX not in message


class TestPermissions:
    def test_replaced_file_keeps_its_mode(self, model, good_file):
        for mode in (0o644, 0o640, 0o600):
            os.chmod(good_file, mode)
            model.save(good_file)
            assert stat.S_IMODE(os.stat(good_file).st_mode) == mode

    @pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
    def test_new_file_mode_follows_the_umask(self, model, tmp_path, umask):
        previous = os.umask(umask)
        try:
            model.save(tmp_path / "m.npz")
        finally:
            os.umask(previous)
        assert stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode) == 0o666 & ~umask


class TestInterruptedWrites:
    def test_error_while_writing_keeps_the_old_file_and_names_the_users_path(self, model, good_file, monkeypatch):
        before = good_file.read_bytes()

        def disk_full(handle, **arrays):
            handle.write(b"partial")
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(persistence.np, "savez", disk_full)
        with pytest.raises(OSError, match=r"cannot write model file .*m\.npz: No space left on device") as info:
            model.save(good_file)
        assert files.TEMP_PREFIX not in str(info.value)
        assert good_file.read_bytes() == before and _no_temp_files(good_file.parent)

    def test_sigterm_while_writing_removes_the_temporary_file(self, model, good_file, monkeypatch):
        before = good_file.read_bytes()

        def terminated(handle, **arrays):
            handle.write(b"partial")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends

        monkeypatch.setattr(persistence.np, "savez", terminated)
        previous = signal.getsignal(signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt), cli._sigterm_interrupts():
            model.save(good_file)
        assert good_file.read_bytes() == before and _no_temp_files(good_file.parent)
        assert signal.getsignal(signal.SIGTERM) == previous  # the handler lives only while a command runs

    def test_sigterm_during_train_with_out(self, model, tmp_path):
        out = tmp_path / "m.npz"
        model.save(out)
        before = out.read_bytes()
        process = subprocess.Popen(
            [sys.executable, "-m", "neuralcore", "train", "planar:n_samples=50", "--iterations", "100000000",
             "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "NEURALCORE_BACKEND": "numpy"})
        try:
            for line in process.stdout:  # training starts right after the model line
                if line.startswith("model:"):
                    break
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=120)
        finally:
            process.kill() if process.poll() is None else None
        assert process.returncode == 143, stderr
        assert stderr.strip().splitlines()[-1] == "neuralcore: terminated" and "Traceback" not in stderr
        assert out.read_bytes() == before and _no_temp_files(tmp_path)


class TestSaveWritesOnlyWhatLoadAccepts:
    """``save`` runs load's checks first: a good file is never replaced by one ``load`` would refuse."""

    @pytest.mark.parametrize("metadata", ["x", ["a"], 3], ids=["metadata-str", "metadata-list", "metadata-int"])
    def test_non_dict_metadata(self, model, good_file, metadata):
        before = good_file.read_bytes()
        with pytest.raises(TypeError, match="metadata must be a dict or None"):
            model.save(good_file, metadata=metadata)
        assert good_file.read_bytes() == before

    def test_deeply_nested_metadata(self, model, good_file):
        nested = {}
        for _ in range(40):
            nested = {"a": nested}
        with pytest.raises(ValueError, match="nested more than 32 levels"):
            model.save(good_file, metadata=nested)
        nc.load(good_file)

    def test_classes_changed_after_fit(self, backend_case, tmp_path):
        model = LogisticRegression(max_iter=5).fit(backend_case.asarray(X), backend_case.asarray(Y))
        path = model.save(tmp_path / "m.npz")
        before = Path(path).read_bytes()
        model.classes_ = np.asarray([0, 1, 2])
        with pytest.raises(ValueError, match=r"cannot save LogisticRegression .*load would refuse it.*shape"):
            model.save(path)
        model.classes_ = np.asarray([1, 0])
        with pytest.raises(ValueError, match="not unique and sorted"):
            model.save(path)
        assert Path(path).read_bytes() == before

    def test_params_of_the_wrong_shape(self, good_file):
        model = _fit()
        model.params_ = {**model.params_, "W1": np.zeros((3, 5))}
        with pytest.raises(ValueError, match=r"load would refuse it.*'W1': \[3, 5\]"):
            model.save(good_file)
        nc.load(good_file)

    def test_hyperparameter_changed_after_fit(self, good_file):
        model = _fit().set_params(hidden_units=8)
        with pytest.raises(ValueError, match=r"was fitted with hidden_units=\d+ \(now 8\)"):
            model.save(good_file)
        nc.load(good_file)

    def test_params_of_mixed_dtypes(self, good_file):
        model = _fit()
        model.params_ = {**model.params_, "b2": model.params_["b2"].astype(np.float32)}
        with pytest.raises(ValueError, match=r"parameter 'b2' is corrupted \(dtype float32"):
            model.save(good_file)


# ============================================================================ reading


class TestLoadReadsOnlyTheFormat:
    def test_unknown_member_is_refused(self, good_file, tmp_path):
        bad = _rewrite(good_file, tmp_path / "bad.npz", lambda arrays, doc: arrays.update(extra=np.zeros(3)))
        with pytest.raises(ValueError, match=r"members the model format does not define: \['extra.npy'\]"):
            nc.load(bad)

    def test_duplicate_member_is_refused(self, good_file, tmp_path):
        bad = tmp_path / "bad.npz"
        bad.write_bytes(good_file.read_bytes())
        with zipfile.ZipFile(bad, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("classes.npy", _npy(np.asarray([5, 6])))
        with pytest.raises(ValueError, match="appears twice"):
            nc.load(bad)

    def test_zip_bomb_does_not_allocate(self, good_file, tmp_path):
        """600 KB on disk, 600 MB inflated: refused before anything is decompressed."""
        arrays, document = _arrays(good_file)
        n_features = 75_000_000  # a LogisticRegression with this many features: W is 600 MB of float64
        document.update(estimator="LogisticRegression", n_features_in=n_features,
                        hyperparameters={"max_iter": 5}, param_shapes={"W": [n_features, 1], "b": [1]})
        bomb = tmp_path / "bomb.npz"
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            archive.writestr("metadata.npy", _npy(np.frombuffer(json.dumps(document).encode(), np.uint8)))
            archive.writestr("classes.npy", _npy(arrays["classes"]))
            archive.writestr("param.b.npy", _npy(np.zeros(1)))
            with archive.open("param.W.npy", "w", force_zip64=True) as member:
                member.write(_npy_header((n_features, 1)))
                zeros = bytes(2**24)
                for _ in range(n_features * 8 // len(zeros)):
                    member.write(zeros)
                member.write(bytes(n_features * 8 % len(zeros)))
        assert bomb.stat().st_size < 1_000_000
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match="stored compressed"):
                nc.load(bomb)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 20 * 2**20, f"load allocated {peak / 2**20:.0f} MiB for a 600 KB file"

    def test_member_larger_than_its_header_declares(self, good_file, tmp_path):
        arrays, _ = _arrays(good_file)
        bad = tmp_path / "bad.npz"
        with zipfile.ZipFile(good_file) as source, zipfile.ZipFile(bad, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                target.writestr(info.filename, data + bytes(1000) if info.filename == "param.W1.npy" else data)
        with pytest.raises(ValueError, match="bytes of data where its header declares"):
            nc.load(bad)

    def test_header_shape_differs_from_metadata(self, good_file, tmp_path):
        bad = _rewrite(good_file, tmp_path / "bad.npz",
                       lambda arrays, doc: arrays.update({"param.W1": np.zeros((3000, 3000))}))
        with pytest.raises(ValueError, match=r"parameter 'W1' has shape \(3000, 3000\), the metadata says \(3, 3\)"):
            nc.load(bad)

    def test_huge_declared_shapes_with_a_small_file(self, good_file, tmp_path):
        def huge(arrays, document):
            document.update(n_features_in=10**9, param_shapes={**document["param_shapes"], "W1": [10**9, 3]})

        with pytest.raises(ValueError, match=r"parameter 'W1' has shape \(3, 3\), the metadata says \(1000000000, 3\)"):
            nc.load(_rewrite(good_file, tmp_path / "bad.npz", huge))

    @pytest.mark.parametrize("member", ["metadata", "classes", "param.W1"])
    def test_text_member_named_npy(self, good_file, tmp_path, member):
        bad = tmp_path / "bad.npz"
        with zipfile.ZipFile(good_file) as source, zipfile.ZipFile(bad, "w") as target:
            for info in source.infolist():
                target.writestr(info.filename, b"hello, not numpy\n" if info.filename == f"{member}.npy"
                                else source.read(info))
        with pytest.raises(ValueError, match=f"not a neuralcore model file .*not NumPy array data"):
            nc.load(bad)

    def test_text_member_from_the_command_line_is_one_line(self, xor_file, tmp_path, capsys):
        bad = tmp_path / "bad.npz"
        with zipfile.ZipFile(xor_file) as source, zipfile.ZipFile(bad, "w") as target:
            for info in source.infolist():
                target.writestr(info.filename, b"text" if info.filename == "metadata.npy" else source.read(info))
        assert cli.main(["predict", str(bad), "xor:n_samples=10"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("neuralcore: error: ") and "not NumPy array data" in err[0]

    def test_pickled_classes_are_refused(self, good_file, tmp_path):
        bad = tmp_path / "bad.npz"
        with zipfile.ZipFile(good_file) as source, zipfile.ZipFile(bad, "w") as target:
            for info in source.infolist():
                target.writestr(info.filename, _npy(np.asarray([0, 1], dtype=object), allow_pickle=True)
                                if info.filename == "classes.npy" else source.read(info))
        with pytest.raises(ValueError, match="dtype object.*pickled objects"):
            nc.load(bad)


class TestLoadRefusesSpecialFiles:
    def test_fifo_does_not_hang(self, tmp_path):
        fifo = tmp_path / "m.npz"
        os.mkfifo(fifo)
        outcome = []
        reader = threading.Thread(target=lambda: outcome.append(_error_of(nc.load, fifo)), daemon=True)
        reader.start()
        reader.join(10)
        if reader.is_alive():  # a blocked open: give it a writer so the thread ends
            with open(fifo, "wb"):
                pass
            reader.join(10)
            pytest.fail("load blocked on a FIFO")
        assert isinstance(outcome[0], ValueError) and "not a regular file" in str(outcome[0])

    @pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
    def test_endless_device(self, device):
        if not os.path.exists(device):
            pytest.skip(f"{device} does not exist here")
        # in a child with 3 GiB of address space: a regression fails here instead of exhausting the machine
        code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))\n"
                "import neuralcore\n"
                "try: neuralcore.load(sys.argv[1])\n"
                "except Exception as e: print(type(e).__name__, e)")
        done = subprocess.run([sys.executable, "-c", code, device], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.stdout.startswith("ValueError ") and "special file" in done.stdout, (done.stdout, done.stderr)
        assert "not a regular file" in done.stdout

    def test_directory(self, tmp_path):
        with pytest.raises(ValueError, match="it is a directory"):
            nc.load(tmp_path)

    def test_empty_path(self):
        with pytest.raises(ValueError, match="model file path is empty"):
            nc.load("")


class TestLoadValidatesWhatDrivesPredictions:
    @pytest.mark.parametrize(
        ("classes", "message"),
        [([1, 1], "not unique and sorted"), ([1, 0], "not unique and sorted"),
         ([0.0, np.nan], "not unique and sorted"), (["b", "a"], "not unique and sorted")],
        ids=["duplicate-classes", "unsorted-classes", "nan-class", "unsorted-string-classes"],
    )
    def test_class_labels(self, good_file, tmp_path, classes, message):
        bad = _rewrite(good_file, tmp_path / "bad.npz", lambda arrays, doc: arrays.update(classes=np.asarray(classes)))
        with pytest.raises(ValueError, match=message):
            nc.load(bad)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda a, d: a.update({k: v.astype(np.int64) for k, v in a.items() if k.startswith("param.")})
             or d.update(dtype="int64"), "parameter dtype 'int64'"),
            (lambda a, d: a.update({k: v.astype(np.float16) for k, v in a.items() if k.startswith("param.")})
             or d.update(dtype="float16"), "parameter dtype 'float16'"),
            (lambda a, d: a.update({"param.b2": a["param.b2"].astype(np.float32)}),
             r"dtype float32, the metadata says"),
            (lambda a, d: d["hyperparameters"].update(activation="bogus"), "activation"),
            (lambda a, d: d["hyperparameters"].update(hidden_units=-1), "hidden_units"),
            (lambda a, d: d.update(n_features_in=True), "n_features_in=True"),
            (lambda a, d: d.update(format_version=True), "invalid format_version"),
            (lambda a, d: d.update(metadata="x"), "metadata must be a JSON object"),
            (lambda a, d: d.update(loss_curve=["a"]), "loss_curve"),
        ],
        ids=["int-params", "float16-params", "mixed-param-dtypes", "unknown-activation", "negative-hidden-units",
             "bool-n-features", "bool-format-version", "metadata-not-a-dict", "loss-curve-of-strings"],
    )
    def test_tampered_document(self, good_file, tmp_path, change, message):
        with pytest.raises(ValueError, match=message):
            nc.load(_rewrite(good_file, tmp_path / "bad.npz", change))

    def test_nan_in_the_document(self, good_file, tmp_path):
        arrays, document = _arrays(good_file)
        text = json.dumps(document).replace('"loss_curve": [', '"loss_curve": [NaN, ')
        arrays["metadata"] = np.frombuffer(text.encode(), dtype=np.uint8)
        np.savez(tmp_path / "bad.npz", **arrays)
        with pytest.raises(ValueError, match="holds NaN"):
            nc.load(tmp_path / "bad.npz")

    @pytest.mark.parametrize("depth", [40, 100_000], ids=["nested-40", "nested-100000"])
    def test_deeply_nested_metadata(self, good_file, tmp_path, depth):
        arrays, document = _arrays(good_file)
        text = json.dumps(document).replace('"metadata": {}', '"metadata": {"a": ' + "[" * depth + "]" * depth + "}")
        arrays["metadata"] = np.frombuffer(text.encode(), dtype=np.uint8)
        np.savez(tmp_path / "bad.npz", **arrays)
        with pytest.raises(ValueError, match="nested more than 32 levels"):
            nc.load(tmp_path / "bad.npz")


# ============================================================================ command line


def _train(*args):
    return cli.main(["train", "xor:n_samples=20", "--iterations", "3", "--quiet", *map(str, args)])


class TestCommandLineOutputs:
    def test_train_out_empty(self, capsys):
        with pytest.raises(SystemExit) as exit_info:  # argparse rejects it: a malformed command line
            _train("--out", "")
        assert exit_info.value.code == 2
        assert "argument --out: expected a file path, got ''" in capsys.readouterr().err

    def test_train_out_folder_is_a_file_fails_before_training(self, tmp_path, capsys, monkeypatch):
        (tmp_path / "plain").write_text("x")
        monkeypatch.setattr(TwoLayerNet, "fit", lambda *a, **k: pytest.fail("trained before checking --out"))
        assert _train("--out", tmp_path / "plain" / "m.npz") == 1
        err = capsys.readouterr().err
        assert "plain/m.npz" in err and "is a file, not a folder" in err and files.TEMP_PREFIX not in err

    def test_train_out_is_the_training_data(self, tmp_path, capsys):
        data = tmp_path / "data.csv"
        data.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
        before = data.read_bytes()
        assert cli.main(["train", str(data), "--iterations", "3", "--quiet", "--out", str(data)]) == 1
        assert "the DATA file this command reads" in capsys.readouterr().err
        assert data.read_bytes() == before

    def test_train_out_and_plot_are_the_same_file(self, tmp_path, capsys):
        pytest.importorskip("matplotlib")
        assert _train("--out", tmp_path / "same", "--plot", tmp_path / "same") == 1
        assert "name the same file" in capsys.readouterr().err

    def test_plot_without_extension_writes_exactly_that_path(self, tmp_path):
        pytest.importorskip("matplotlib")
        assert _train("--plot", tmp_path / "figure") == 0
        assert os.listdir(tmp_path) == ["figure"]
        assert (tmp_path / "figure").read_bytes().startswith(b"\x89PNG")

    def test_plot_unknown_extension_fails_before_training(self, tmp_path, capsys, monkeypatch):
        pytest.importorskip("matplotlib")
        monkeypatch.setattr(TwoLayerNet, "fit", lambda *a, **k: pytest.fail("trained before checking --plot"))
        assert _train("--plot", tmp_path / "figure.xyz") == 1
        assert "unknown image format 'xyz'" in capsys.readouterr().err and not os.listdir(tmp_path)

    def test_plot_into_a_directory_is_one_line(self, tmp_path, capsys):
        pytest.importorskip("matplotlib")
        assert _train("--plot", tmp_path) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "it is a directory" in err[0]

    def test_predict_out_is_the_model_file(self, xor_file, capsys):
        before = xor_file.read_bytes()
        assert cli.main(["predict", str(xor_file), "xor:n_samples=10", "--out", str(xor_file)]) == 1
        assert "the MODEL file this command reads" in capsys.readouterr().err
        assert xor_file.read_bytes() == before

    def test_predict_out_fifo_is_refused(self, xor_file, tmp_path, capsys):
        fifo = tmp_path / "p.csv"
        os.mkfifo(fifo)
        assert cli.main(["predict", str(xor_file), "xor:n_samples=10", "--out", str(fifo)]) == 1
        assert "it is a FIFO" in capsys.readouterr().err

    def test_predict_out_keeps_mode_and_symlink(self, xor_file, tmp_path):
        real = tmp_path / "real.csv"
        real.write_text("old\n")
        os.chmod(real, 0o640)
        link = tmp_path / "p.csv"
        link.symlink_to(real)
        assert cli.main(["predict", str(xor_file), "xor:n_samples=10", "--out", str(link)]) == 0
        assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o640
        assert real.read_text().startswith("prediction")


# ---------------------------------------------------------------------------- helpers


def _npy(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npy_header(shape) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _device(folder) -> Path:
    """A character device to aim at: a private copy of /dev/null when we may create one (root), else /dev/null,
    which an unprivileged user cannot replace, so a regression cannot damage the machine."""
    device = Path(folder) / "null.npz"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        if os.geteuid() == 0:
            pytest.skip("root without the right to create device files: /dev/null would be at risk")
        return Path("/dev/null")
    return device


def _error_of(function, *args):
    try:
        function(*args)
    except Exception as exc:  # the outcome is examined by the caller
        return exc
    return None
