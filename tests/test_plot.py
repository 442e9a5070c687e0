import numpy as np
import pytest

from neuralcore import LogisticRegression, TwoLayerNet
from neuralcore.datasets import make_blobs, make_planar

pytest.importorskip("matplotlib")
from neuralcore import plot  # noqa: E402

X, y = make_planar(n_samples=120, random_state=0)


@pytest.fixture(scope="module")
def net():
    return TwoLayerNet(4, max_iter=500, random_state=0, backend="numpy").fit(X, y)


def pixels(figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())


class TestLossCurve:
    def test_draws_the_costs(self, net):
        figure = plot.loss_curve(net)
        line = figure.axes[0].lines[0]
        np.testing.assert_array_equal(line.get_ydata(), net.loss_curve_)
        assert figure.axes[0].get_xlabel() == "iteration"

    def test_several_runs_on_one_axes(self, net):
        figure = plot.loss_curve(net, label="a")
        plot.loss_curve([0.7, 0.5, 0.4], ax=figure.axes[0], label="b")
        assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["a", "b"]

    def test_needs_costs(self):
        with pytest.raises(ValueError, match="needs a fitted model"):
            plot.loss_curve([])


class TestDecisionBoundary:
    def test_regions_match_predictions(self, net):
        figure = plot.decision_boundary(net, X, y, resolution=50)
        ax = figure.axes[0]
        assert len(ax.collections) >= 3  # filled regions + one scatter per class
        assert pixels(figure).std() > 0  # something was drawn

    def test_multiclass(self):
        Xb, yb = make_blobs(n_samples=90, centers=3, random_state=1)
        model = LogisticRegression(solver="lbfgs", alpha=0.01, backend="numpy").fit(Xb, yb)
        figure = plot.decision_boundary(model, Xb, yb, resolution=40)
        assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["0", "1", "2"]

    def test_two_features_only(self, net):
        with pytest.raises(ValueError, match="2 features"):
            plot.decision_boundary(net, np.ones((3, 3)), [0, 1, 0])

    def test_device_arrays(self, backend_case):
        model = LogisticRegression(max_iter=20).fit(backend_case.asarray(X), backend_case.asarray(y))
        figure = plot.decision_boundary(model, backend_case.asarray(X), backend_case.asarray(y), resolution=20)
        # every sample drawn once, in its class's scatter, where the host data puts it
        scatters = [c for c in figure.axes[0].collections if len(c.get_offsets()) and c.get_offsets().shape[1] == 2
                    and len(c.get_offsets()) < len(X) + 1 and c.get_label() in ("0", "1")]
        assert [c.get_label() for c in scatters] == ["0", "1"]
        for collection, label in zip(scatters, (0, 1)):
            np.testing.assert_allclose(collection.get_offsets(), X[y == label], rtol=1e-6)
        # the same picture as from host copies of the data
        host = plot.decision_boundary(model, X, y, resolution=20)
        np.testing.assert_array_equal(pixels(figure), pixels(host))
        assert pixels(figure).std() > 0


def test_training_summary(net):
    assert len(plot.training_summary(net, X, y).axes) == 2
    assert len(plot.training_summary(net).axes) == 1
