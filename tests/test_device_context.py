"""Every estimator entry point runs inside the model's device context (issue: on ``cupy:1`` the costs,
the reductions and the kernels-off code ran on the current GPU, device 0). Without two GPUs this is
checked with a spy on :func:`neuralcore.device.device_context`: each entry point must enter the
placement's context, and the model work (training, logits) must happen while it is entered."""

import contextlib

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import base
from neuralcore import device as nc_device

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
y = (X[:, 0] > 0).astype(int)


@pytest.fixture
def spy(monkeypatch):
    record = {"entered": [], "depth": 0, "work_outside": []}

    @contextlib.contextmanager
    def spying_context(placement):
        record["entered"].append(str(placement))
        record["depth"] += 1
        try:
            yield
        finally:
            record["depth"] -= 1

    def watch(name, function):
        def wrapped(*args, **kwargs):
            if record["depth"] == 0:
                record["work_outside"].append(name)
            return function(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(base, "device_context", spying_context)
    monkeypatch.setattr(base, "train", watch("train", base.train))
    for cls in (nc.LogisticRegression, nc.TwoLayerNet):
        monkeypatch.setattr(cls, "_logits", watch("logits", cls._logits))
    return record


ESTIMATORS = [
    lambda backend: nc.LogisticRegression(max_iter=5, backend=backend),
    lambda backend: nc.LogisticRegression(solver="lbfgs", alpha=0.1, max_iter=5, backend=backend),
    lambda backend: nc.TwoLayerNet(3, max_iter=5, backend=backend, random_state=0),
]


@pytest.mark.filterwarnings("ignore::neuralcore.ConvergenceWarning")
@pytest.mark.parametrize("make", ESTIMATORS, ids=["gd", "lbfgs", "two_layer"])
@pytest.mark.parametrize("entry", ["fit", "predict", "predict_proba", "decision_function", "score", "to"])
def test_entry_point_runs_in_the_model_device_context(spy, make, entry, backend_case):
    Xc = backend_case.asarray(X)
    yc = y if backend_case.name == "numpy" else backend_case.asarray(y, dtype="int64")
    model = make(backend_case.spec)
    if entry != "fit":
        model.fit(Xc, yc)
        spy["entered"].clear()
    call = {
        "fit": lambda: model.fit(Xc, yc),
        "score": lambda: model.score(Xc, y),
        "to": lambda: model.to(backend_case.spec),
    }.get(entry, lambda: getattr(model, entry)(Xc))
    call()
    assert str(backend_case.backend) in spy["entered"]
    assert spy["work_outside"] == []


def test_device_context_is_the_device_for_cupy_and_a_null_context_elsewhere():
    numpy_context = nc_device.device_context(nc_device.resolve_backend("numpy"))
    assert isinstance(numpy_context, contextlib.nullcontext)
    strict = nc_device.device_context(nc_device.resolve_backend("array_api_strict:device1"))
    assert isinstance(strict, contextlib.nullcontext)
