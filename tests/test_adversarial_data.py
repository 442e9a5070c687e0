"""Adversarial matrix, area "data that reads wrong" (issue 11): one test per attack, named in its id.

CSV files that read wrong, special files given as data, feature names (as scikit-learn keeps them), and
inputs users really pass (pandas extension dtypes, Series, scipy sparse, object arrays). Each attack must
either work correctly or fail with an error that says what is wrong (for files: the line and the column).
"""

from __future__ import annotations

import decimal
import os
import threading
import warnings

import numpy as np
import pytest

from neuralcore import LogisticRegression, cli, load
from neuralcore.loaders import load_csv, load_data, load_hdf5, load_npz

pd = pytest.importorskip("pandas")

# --------------------------------------------------------------------------------------------- CSV

# (content, expected error fragments): each must be a ValueError naming the line (and the column where one is at fault)
CSV_ERRORS = {
    "duplicate-header": ("a,b,a,label\n1,2,3,0\n4,5,6,1\n", ["line 1", "'a' twice", "columns 1 and 3"]),
    "duplicate-header-after-strip": ("a, a ,label\n1,2,0\n3,4,1\n", ["line 1", "'a' twice"]),
    "duplicate-of-target": ("label,b,label\n1,2,0\n3,4,1\n", ["line 1", "'label' twice"]),
    "empty-header-row": ("\n1,2,0\n3,4,1\n", ["line 1", "header"]),
    "header-of-empty-cells": (",,\n1,2,0\n3,4,1\n", ["line 1", "header"]),
    "unnamed-header-column": ("a,,label\n1,2,0\n3,4,1\n", ["line 1", "column 2", "no name"]),
    "numbers-as-header": ("0.5,1.5,0\n2.5,3.5,1\n4.5,1.5,0\n", ["line 1", "only numbers"]),
    "empty-label-cell": ("a,b,label\n1,2,0\n3,4,\n5,6,1\n", ["line 3", "'label'", "empty"]),
    "blank-label-cell": ("a,b,label\n1,2,0\n3,4,  \n5,6,1\n", ["line 3", "'label'", "empty"]),
    "empty-feature-cell": ("a,b,label\n1,2,0\n3,,1\n", ["line 3", "'b'", "empty"]),
    "non-numeric-feature-cell": ("a,b,label\n1,2,0\n3,x,1\n", ["line 3", "'b'", "'x'"]),
    "row-of-empty-cells": ("a,b,label\n1,2,0\n,,\n3,4,1\n", ["line 3", "empty"]),
    "bad-cell-after-blank-line": ("a,b,label\n1,2,0\n\n3,x,1\n", ["line 4", "'b'"]),
    "bad-cell-after-quoted-newline": ('a,b,label\n1,2,"zero\nlabel"\n3,x,1\n', ["line 4", "'b'"]),
    "ragged-short-row": ("a,b,label\n1,2,0\n3,4\n", ["line 3", "2 fields", "3"]),
    "ragged-long-row": ("a,b,label\n1,2,0\n3,4,5,1\n", ["line 3", "4 fields", "3"]),
    "ragged-after-blank-lines": ("a,b,label\n\n\n1,2,0\n3,4\n", ["line 5", "2 fields"]),
    "unterminated-quote": ('a,b,label\n1,2,0\n"3,4,1\n', ["line", "quot"]),
    "header-only": ("a,b,label\n", ["line 1", "no data rows"]),
    "header-only-crlf-blank-lines": ("a,b,label\r\n\r\n\r\n", ["line 1", "no data rows"]),
    "empty-file": ("", ["empty"]),
}


@pytest.mark.parametrize("content, fragments", list(CSV_ERRORS.values()), ids=list(CSV_ERRORS))
def test_csv_attack_is_an_error_naming_line_and_column(tmp_path, content, fragments):
    path = tmp_path / "data.csv"
    path.write_text(content, encoding="utf-8", newline="")
    for load in (lambda: load_csv(path), lambda: load_data(str(path))):
        with pytest.raises(ValueError) as info:
            load()
        message = str(info.value)
        for fragment in fragments:
            assert fragment in message, (fragment, message)


def test_csv_missing_target_names_it_and_the_columns(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n1,2,0\n3,4,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no column 'klass'.*\['a', 'b', 'label'\]"):
        load_data(str(path), target="klass")


def test_csv_prediction_file_with_duplicate_model_column_is_an_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("b,a,b\n1,2,3\n4,5,6\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'b' twice"):
        load_csv(path, labels_optional=True, feature_names=["a", "b"])


def test_csv_prediction_with_an_all_empty_label_column_has_no_labels(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n1,2,\n3,4,\n", encoding="utf-8")
    X, y, _ = load_csv(path, labels_optional=True)
    assert y is None and X.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="line 2, column 'label'"):
        load_csv(path)  # training needs them


EXPECTED_X = [[1.5, 2.0], [3.0, 4.0], [5.0, -6.0]]
# legitimate encodings of the same table: each must read exactly as the plain one
CSV_LEGIT = {
    "plain": "a,b,label\n1.5,2,cat\n3,4,dog\n5,-6,cat\n",
    "bom": "\ufeffa,b,label\n1.5,2,cat\n3,4,dog\n5,-6,cat\n",
    "crlf": "a,b,label\r\n1.5,2,cat\r\n3,4,dog\r\n5,-6,cat\r\n",
    "cr-only": "a,b,label\r1.5,2,cat\r3,4,dog\r5,-6,cat\r",
    "bom-crlf-no-final-newline": "\ufeffa,b,label\r\n1.5,2,cat\r\n3,4,dog\r\n5,-6,cat",
    "quoted-fields": '"a","b","label"\n"1.5","2","cat"\n"3",4,"dog"\n5,"-6",cat\n',
    "spaces-around-cells": " a , b , label \n 1.5 , 2 , cat \n3,4,dog\n5,-6,cat\n",
    "trailing-blank-lines": "a,b,label\n1.5,2,cat\n3,4,dog\n5,-6,cat\n\n\n",
}


@pytest.mark.parametrize("content", list(CSV_LEGIT.values()), ids=list(CSV_LEGIT))
def test_csv_legitimate_variant_reads_exactly(tmp_path, content):
    path = tmp_path / "data.csv"
    path.write_text(content, encoding="utf-8", newline="")
    X, y, names = load_csv(path)
    assert names == ["a", "b"]
    assert X.tolist() == EXPECTED_X
    assert y.tolist() == ["cat", "dog", "cat"]


def test_csv_quoted_header_with_comma_and_quote(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('"x, cm","say ""hi""",label\n1,2,0\n3,4,1\n', encoding="utf-8")
    X, y, names = load_csv(path)
    assert names == ["x, cm", 'say "hi"'] and X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1]


def test_csv_pandas_default_integer_names_are_a_header(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("0,1,2\n0.5,1.5,0\n2.5,3.5,1\n", encoding="utf-8")
    X, y, names = load_csv(path)
    assert names == ["0", "1"] and X.shape == (2, 2) and y.tolist() == [0, 1]


# ------------------------------------------------------------------------------ special files as data


def _fifo(tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _release(fifo, thread):
    """A writer blocked on the FIFO (if the loader never opened it) gets a reader, held until its thread ends."""
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        thread.join(5)
    finally:
        os.close(reader)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("suffix", [".csv", ".npz", ".h5"])
def test_fifo_as_data_is_refused_before_reading(tmp_path, suffix):
    fifo = _fifo(tmp_path, f"pipe{suffix}")

    def writer():  # without the check, the loader would block for ever: this writer ends its read with EOF
        with open(fifo, "wb"):
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        with pytest.raises(ValueError, match=r"FIFO.*not a regular file"):
            load_data(str(fifo))
    finally:
        _release(fifo, thread)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("suffix", [".csv", ".npz", ".h5"])
def test_device_file_as_data_is_refused_before_reading(tmp_path, device, suffix):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    link = tmp_path / f"data{suffix}"
    link.symlink_to(device)
    with pytest.raises(ValueError, match=r"character device.*not a regular file"):
        load_data(str(link))


@pytest.mark.parametrize("loader", [load_csv, load_npz, load_hdf5], ids=["load_csv", "load_npz", "load_hdf5"])
def test_special_files_refused_by_each_loader(tmp_path, loader):
    folder = tmp_path / "folder.data"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"folder.*not a regular file"):
        loader(folder)
    if os.path.exists("/dev/zero"):
        with pytest.raises(ValueError, match="not a regular file"):
            loader("/dev/zero")


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".h5"])
def test_directory_as_data_is_refused(tmp_path, suffix):
    folder = tmp_path / f"data{suffix}"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"is a folder, not a regular file"):
        load_data(str(folder))


def test_symlink_to_a_regular_data_file_works(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("a,label\n1,0\n2,1\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert load_data(str(link)).X.tolist() == [[1.0], [2.0]]


# ------------------------------------------------------------------------------------ feature names


def _frame(columns=("a", "b", "c"), n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(columns)))
    y = (X[:, 0] - X[:, 1] > 0).astype(np.int64)
    return pd.DataFrame(X, columns=list(columns)), y


def _model(case, **kw):
    return LogisticRegression(learning_rate=0.5, max_iter=30, backend=case.spec, dtype=case.dtype, **kw)


def test_fit_on_dataframe_sets_feature_names_in(backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(df, y)
    assert isinstance(model.feature_names_in_, np.ndarray) and model.feature_names_in_.dtype == object
    assert model.feature_names_in_.tolist() == ["a", "b", "c"]
    reference = _model(backend_case).fit(df.to_numpy(), y)
    np.testing.assert_array_equal(model.predict_proba(df), reference.predict_proba(df.to_numpy()))  # same numbers


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function", "score"])
def test_prediction_with_reordered_columns_is_refused(backend_case, method):
    df, y = _frame()
    model = _model(backend_case).fit(df, y)
    args = (df[["b", "a", "c"]], y) if method == "score" else (df[["b", "a", "c"]],)
    with pytest.raises(ValueError, match="same order"):
        getattr(model, method)(*args)


def test_prediction_with_renamed_columns_names_the_mismatch(backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(df, y)
    with pytest.raises(ValueError) as info:
        model.predict(df.rename(columns={"b": "B"}))
    message = str(info.value)
    assert "unseen at fit time" in message and "'B'" in message
    assert "now missing" in message and "'b'" in message


def test_prediction_with_a_column_missing_is_refused(backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(df, y)
    with pytest.raises(ValueError, match="now missing"):
        model.predict(df[["a", "b"]])


def test_fitted_with_names_predict_without_warns(backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(df, y)
    with pytest.warns(UserWarning, match="does not have valid feature names, but LogisticRegression was fitted with"):
        model.predict(df.to_numpy())


def test_fitted_without_names_predict_with_warns_and_has_no_names(backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(df.to_numpy(), y)
    assert not hasattr(model, "feature_names_in_")
    with pytest.warns(UserWarning, match="has feature names, but LogisticRegression was fitted without"):
        model.predict(df)


def test_refit_without_names_forgets_them(backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(df, y).fit(df.to_numpy(), y)
    assert not hasattr(model, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(df.to_numpy())


def test_failed_refit_keeps_the_old_feature_names(backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(df, y)
    with pytest.raises(ValueError, match="only one class"):
        model.fit(df.rename(columns={"a": "z"}), np.zeros(len(y)))
    assert model.feature_names_in_.tolist() == ["a", "b", "c"]


def test_eval_set_with_reordered_columns_is_refused(backend_case):
    df, y = _frame()
    model = _model(backend_case)
    with pytest.raises(ValueError, match=r"\(eval_set X\).*same order"):
        model.fit(df, y, eval_set=(df[["c", "a", "b"]], y))
    assert not hasattr(model, "params_")
    with pytest.warns(UserWarning, match="eval_set X does not have valid feature names"):
        model.fit(df, y, eval_set=(df.to_numpy(), y))


def test_dask_prediction_of_a_named_model_warns_once():
    da = pytest.importorskip("dask.array")
    df, y = _frame()
    model = LogisticRegression(max_iter=5, backend="numpy").fit(df, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predicted = model.predict(da.from_array(df.to_numpy(), chunks=(10, 3))).compute()
    assert [str(w.message) for w in caught] == [
        "X does not have valid feature names, but LogisticRegression was fitted with feature names"]
    assert predicted.tolist() == model.predict(df).tolist()


def test_empty_dataframe_is_refused():
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        LogisticRegression(backend="numpy").fit(pd.DataFrame({"a": pd.Series([], dtype="Int64")}), [])
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        LogisticRegression(backend="numpy").fit(pd.DataFrame(index=range(4)), [0, 1, 0, 1])


def test_integer_column_names_are_not_feature_names(backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(pd.DataFrame(df.to_numpy()), y)
    assert not hasattr(model, "feature_names_in_")


def test_mixed_type_column_names_are_refused():
    df, y = _frame()
    df.columns = ["a", 1, "c"]
    with pytest.raises(TypeError, match="all input features have string names"):
        LogisticRegression(max_iter=2, backend="numpy").fit(df, y)


def test_duplicate_column_names_are_refused():
    df, y = _frame()
    df.columns = ["a", "b", "a"]
    with pytest.raises(ValueError, match=r"duplicate column names \['a'\]"):
        LogisticRegression(max_iter=2, backend="numpy").fit(df, y)


def test_feature_names_survive_save_and_load(tmp_path, backend_case):
    df, y = _frame()
    model = _model(backend_case).fit(df, y)
    path = model.save(tmp_path / "m.npz")
    loaded = load(path)
    assert loaded.feature_names_in_.tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="same order"):
        loaded.predict(df[["c", "b", "a"]])
    model = _model(backend_case).fit(df.to_numpy(), y)
    assert not hasattr(load(model.save(tmp_path / "n.npz")), "feature_names_in_")


@pytest.mark.parametrize("names", [["a", "b"], ["a", "b", 3], ["a", "a", "b"], "abc"], ids=["too-few", "not-str", "duplicate", "not-a-list"])
def test_tampered_feature_names_in_a_model_file_are_refused(tmp_path, names):
    import json

    df, y = _frame()
    source = LogisticRegression(max_iter=2, backend="numpy").fit(df, y).save(tmp_path / "m.npz")
    with np.load(source) as archive:
        contents = {name: archive[name] for name in archive.files}
    document = json.loads(contents["metadata"].tobytes())
    document["feature_names_in"] = names
    contents["metadata"] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    np.savez(tmp_path / "t.npz", **contents)
    with pytest.raises(ValueError, match="feature_names_in"):
        load(tmp_path / "t.npz")


def test_cli_model_from_csv_has_feature_names_and_predicts_by_name(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    train = tmp_path / "train.csv"
    train.write_text("a,b,label\n" + "".join(f"{u},{v},{t}\n" for (u, v), t in zip(X, y)), encoding="utf-8")
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("b,a\n" + "".join(f"{v},{u}\n" for u, v in X), encoding="utf-8")
    model_path = tmp_path / "m.npz"
    assert cli.main(["train", str(train), "--model", "logistic", "--learning-rate", "0.5", "--iterations", "200",
                     "--quiet", "--backend", "numpy", "--out", str(model_path)]) == 0
    model = load(model_path)
    assert model.feature_names_in_.tolist() == ["a", "b"]
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cli.main(["predict", str(model_path), str(swapped)]) == 0
    predicted = capsys.readouterr().out.splitlines()[1:]
    assert [int(v) for v in predicted] == model.predict(pd.DataFrame(X, columns=["a", "b"])).tolist()


# ------------------------------------------------------------------------------ inputs users pass


def _typed_frame(dtype, n=40, seed=1):
    df, y = _frame(n=n, seed=seed)
    frame = pd.DataFrame({
        "a": df["a"].astype(dtype) if dtype != "Int64" else (df["a"] * 10).round().astype("Int64"),
        "b": df["b"],
        "flag": pd.array(df["c"] > 0, dtype="boolean"),
    })
    return frame, y


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "float64"])
def test_dataframe_with_extension_dtypes_fits_like_its_numbers(backend_case, dtype):
    frame, y = _typed_frame(dtype)
    numbers = np.column_stack([frame["a"].to_numpy(dtype=float), frame["b"].to_numpy(), frame["flag"].to_numpy(dtype=float)])
    from_frame = _model(backend_case).fit(frame, y)
    from_numbers = _model(backend_case).fit(numbers, y)
    np.testing.assert_allclose(from_frame.predict_proba(frame), from_numbers.predict_proba(numbers), rtol=backend_case.rtol * 10)
    assert frame["flag"].dtype == "boolean"  # the input is not modified


def test_numpy_bool_columns_are_zeros_and_ones(backend_case):
    df, y = _frame()
    frame = pd.DataFrame({"a": df["a"], "on": df["b"] > 0})
    model = _model(backend_case).fit(frame, y)
    reference = _model(backend_case).fit(np.column_stack([df["a"], (df["b"] > 0).astype(float)]), y)
    np.testing.assert_allclose(model.decision_function(frame), reference.decision_function(
        np.column_stack([df["a"], (df["b"] > 0).astype(float)])), rtol=backend_case.rtol * 10)


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean", "float64"])
def test_missing_values_in_a_dataframe_name_the_column(backend_case, dtype):
    frame, y = _typed_frame("float64")
    column = frame["flag"] if dtype == "boolean" else (frame["a"] * 10).round().astype(dtype)
    column = column.copy()
    column.iloc[3] = None
    name = "flag" if dtype == "boolean" else "a"
    frame[name] = column
    with pytest.raises(ValueError, match=rf"column '{name}'.*missing"):
        _model(backend_case).fit(frame, y)


@pytest.mark.parametrize("kind", ["str", "category", "datetime"])
def test_non_numeric_dataframe_column_names_it(kind):
    df, y = _frame()
    frame = df.copy()
    if kind == "str":
        frame["colour"] = ["red"] * len(df)
    elif kind == "category":
        frame["colour"] = pd.Categorical(["red", "blue"] * (len(df) // 2))
    else:
        frame["colour"] = pd.Timestamp("2024-01-01")
    with pytest.raises(TypeError, match="column 'colour'"):
        LogisticRegression(max_iter=2, backend="numpy").fit(frame, y)


@pytest.mark.parametrize("dtype", ["int64", "Int64", "str", "boolean", "category"])
def test_series_labels_work(backend_case, dtype):
    df, y = _frame()
    labels = {"int64": pd.Series(y), "Int64": pd.Series(y, dtype="Int64"), "str": pd.Series(np.where(y, "yes", "no")),
              "boolean": pd.Series(y.astype(bool), dtype="boolean"),
              "category": pd.Series(np.where(y, "yes", "no"), dtype="category")}[dtype]
    model = _model(backend_case).fit(df, labels)
    reference = _model(backend_case).fit(df, y)
    as_label = dict(zip(y.tolist(), labels.tolist()))
    assert model.predict(df).tolist() == [as_label[v] for v in reference.predict(df).tolist()]
    assert model.score(df, labels) == reference.score(df, y)
    assert model.classes_.tolist() == sorted(set(labels.tolist()))
    assert model.classes_.dtype.kind != "O" or all(isinstance(c, str) for c in model.classes_)


@pytest.mark.parametrize("dtype", ["Int64", "str", "boolean", "float64"])
def test_series_labels_with_missing_values_are_refused(dtype):
    df, y = _frame()
    labels = pd.Series(np.where(y, "yes", "no") if dtype == "str" else y, dtype=dtype if dtype != "boolean" else "boolean")
    labels.iloc[5] = None
    with pytest.raises(ValueError, match="missing"):
        LogisticRegression(max_iter=2, backend="numpy").fit(df, labels)


@pytest.mark.parametrize("kind", ["csr_matrix", "csc_matrix", "coo_matrix", "csr_array"])
def test_scipy_sparse_is_refused_with_how_to_convert(backend_case, kind):
    sparse = pytest.importorskip("scipy.sparse")
    df, y = _frame()
    X = getattr(sparse, kind)(df.to_numpy())
    with pytest.raises(TypeError, match=r"scipy sparse input is not supported; convert with X\.toarray\(\)"):
        _model(backend_case).fit(X, y)
    model = _model(backend_case).fit(df.to_numpy(), y)
    with pytest.raises(TypeError, match="scipy sparse input is not supported"):
        model.predict(X)


def test_object_array_of_numbers_works_like_floats(backend_case):
    df, y = _frame()
    X = df.to_numpy().copy()
    objects = np.empty(X.shape, dtype=object)
    objects[:] = X.tolist()
    objects[0, 0], objects[1, 1], objects[2, 2] = int(3), decimal.Decimal("0.5"), np.bool_(True)
    X[0, 0], X[1, 1], X[2, 2] = 3.0, 0.5, 1.0
    model = _model(backend_case).fit(objects, y)
    reference = _model(backend_case).fit(X, y)
    np.testing.assert_allclose(model.decision_function(objects), reference.decision_function(X), rtol=backend_case.rtol * 10)
    assert objects[0, 0] == 3 and isinstance(objects[0, 0], int)  # not modified


@pytest.mark.parametrize("bad, error", [("1.5", TypeError), (None, ValueError), (b"1", TypeError), ([1], TypeError)],
                         ids=["string", "None", "bytes", "list"])
def test_object_array_with_non_numbers_names_what_it_holds(bad, error):
    df, y = _frame()
    objects = df.to_numpy().astype(object)
    objects[2, 1] = bad
    with pytest.raises(error, match=r"X .*\(2, 1\)"):
        LogisticRegression(max_iter=2, backend="numpy").fit(objects, y)
