"""Input and parameter checks shared by every layer of aelab.

Errors follow scikit-learn's style: they name the parameter, its owner, the
constraint, the value received and, where there is one, the fix.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Mapping

import numpy as np
import torch


def check_choice(value, choices: Iterable[str], param: str, owner: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError.

    The message lists the valid options and suggests the closest one.
    """
    choices = list(choices)
    if isinstance(value, str) and value in choices:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, choices, n=1)
        if close:
            hint = f" Did you mean {close[0]!r}?"
    raise ValueError(
        f"The {param!r} parameter of {owner} must be one of {choices}. "
        f"Got {value!r} instead.{hint}"
    )


def check_number(
    value,
    param: str,
    owner: str,
    *,
    kind: type = float,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_none: bool = False,
):
    """Check that ``value`` is a real (or integral) number within bounds.

    Returns the value converted to ``kind``. Booleans are rejected.
    """
    if value is None and allow_none:
        return None
    integral = kind is int
    ok_type = isinstance(value, numbers.Integral if integral else numbers.Real)
    if isinstance(value, bool) or not ok_type or (not integral and not np.isfinite(value)):
        interval = _interval(low, high, low_inclusive, high_inclusive)
        type_name = "an int" if integral else "a float"
        none = " or None" if allow_none else ""
        raise TypeError(
            f"The {param!r} parameter of {owner} must be {type_name} in {interval}{none}. "
            f"Got {value!r} ({type(value).__name__}) instead."
        )
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        interval = _interval(low, high, low_inclusive, high_inclusive)
        type_name = "an int" if integral else "a float"
        raise ValueError(
            f"The {param!r} parameter of {owner} must be {type_name} in {interval}. "
            f"Got {value!r} instead."
        )
    return kind(value)


def _interval(low, high, low_inclusive, high_inclusive) -> str:
    left = "[" if (low_inclusive and low is not None) else "("
    right = "]" if (high_inclusive and high is not None) else ")"
    lo = "-inf" if low is None else low
    hi = "inf" if high is None else high
    return f"{left}{lo}, {hi}{right}"


def check_widths(value, param: str, owner: str, *, allow_empty: bool = True) -> tuple[int, ...]:
    """Check a sequence of layer widths (positive ints) and return it as a tuple."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(
            f"The {param!r} parameter of {owner} must be a sequence of positive ints, "
            f"e.g. (256, 64). Got {value!r} instead."
        )
    widths = tuple(value)
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1:
            raise ValueError(
                f"The {param!r} parameter of {owner} must contain positive ints only. "
                f"Got {value!r} instead."
            )
    if not widths and not allow_empty:
        raise ValueError(f"The {param!r} parameter of {owner} must not be empty.")
    return tuple(int(w) for w in widths)


def check_bool(value, param: str, owner: str) -> bool:
    """Return ``value`` as a bool if it is one (NumPy's included), else raise a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"The {param!r} parameter of {owner} must be a bool. Got {value!r} instead.")
    return bool(value)


# The label of an unlabelled row, for models trained on partly labelled data.
UNLABELLED = -1


def check_class_labels(y, n: int, n_classes: int, fix: str = "", *,
                       unlabelled: bool = False) -> torch.Tensor:
    """Validate ``n`` integer class labels in ``[0, n_classes)``; return them as int64.

    ``fix`` is appended to the message (how to encode the classes). ``unlabelled=True``
    also accepts :data:`UNLABELLED` (-1) for a row without a label.
    """
    low = UNLABELLED if unlabelled else 0
    y = (y.detach() if isinstance(y, torch.Tensor) else torch.as_tensor(np.array(y))).reshape(-1)
    if y.dtype.is_floating_point or y.dtype == torch.bool or y.shape[0] != n or (
            n and (int(y.min()) < low or int(y.max()) >= n_classes)):
        seen = f" in [{int(y.min())}, {int(y.max())}]" if y.numel() and not y.dtype.is_floating_point else ""
        wanted = f"integers in [0, {n_classes})" + (", or -1 for an unlabelled one" if unlabelled else "")
        raise ValueError(
            f"y must hold {n} class labels, {wanted}; got shape "
            f"{tuple(y.shape)} of dtype {y.dtype}{seen}.{fix}"
        )
    return y.long()


# The most numbers one network (an encoder, a decoder, ...) may hold: 4 GiB in float32. A
# config asking for more (latent_dim=10**9, say) is refused before anything is allocated.
MAX_PARAMETERS = 2**30


def check_size(count: int, what: str, owner: str) -> None:
    """Raise a ValueError if ``count`` numbers would be allocated for ``what``, beyond
    :data:`MAX_PARAMETERS`."""
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"{owner} would allocate {count:,} numbers for {what} ({count * 4 / 2**30:,.1f} GiB in "
            f"float32), more than aelab allows ({MAX_PARAMETERS:,}). Check input_shape, hidden, "
            "latent_dim and the other widths."
        )


def check_shape(value, param: str, owner: str) -> tuple[int, ...]:
    """Check an input shape: an int (number of features) or a tuple such as (C, H, W)."""
    return check_widths(value, param, owner, allow_empty=False)


def check_unknown_options(options: Mapping, known: Iterable[str], owner: str) -> None:
    """Raise a TypeError naming any option not in ``known`` (with a suggestion)."""
    known = sorted(known)
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"{owner} got an unknown option {name!r}.{hint} Valid options: {known}."
            )


def as_float_array(x, *, name: str = "X", min_ndim: int = 2) -> np.ndarray | torch.Tensor:
    """Validate user data and return it as float32 (NumPy array or torch tensor).

    Rejects non-numeric dtypes, 0-D/1-D input, empty input and NaN/inf with a
    message that says how to fix it. Tensors stay tensors (on their device).
    """
    if isinstance(x, torch.Tensor):
        if x.dtype == torch.bool or x.is_complex() or not (x.is_floating_point() or _is_int(x)):
            raise TypeError(
                f"{name} must hold real numbers; got a tensor of dtype {x.dtype}. "
                f"Convert it with {name}.float()."
            )
        arr = x.float() if x.dtype != torch.float32 else x
        finite = bool(torch.isfinite(arr).all()) if arr.numel() else True
    else:
        if hasattr(x, "to_numpy") and hasattr(x, "dtypes"):  # pandas DataFrame
            x = _frame_to_numpy(x, name)
        arr = np.asarray(x)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError(
                f"{name} must hold real numbers; got an array of dtype {arr.dtype}. "
                "Encode non-numeric columns (e.g. one-hot) before passing them to aelab."
            )
        if arr.dtype.kind == "b":
            arr = arr.astype(np.float32)
        _check_float32_range(arr, name)
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        finite = bool(np.isfinite(arr).all())
    if arr.ndim < min_ndim:
        fix = "array.reshape(-1, 1) if it has one feature or array.reshape(1, -1) if it is one sample"
        raise ValueError(
            f"Expected {name} with at least {min_ndim} dimensions (n_samples, n_features, ...), "
            f"got {arr.ndim}D input of shape {tuple(arr.shape)} instead. Reshape your data using "
            f"{fix}."
        )
    if arr.shape[0] == 0:
        raise ValueError(
            f"{name} is empty: found 0 samples in an array of shape {tuple(arr.shape)}; "
            "at least 1 is required."
        )
    if not finite:
        raise ValueError(
            f"{name} contains NaN or infinity. Remove or impute those values (NaN: e.g. "
            "aelab.sklearn.AutoencoderImputer, `aelab impute`, or sklearn.impute.SimpleImputer) "
            "before passing them to aelab."
        )
    return arr


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32_range(arr: np.ndarray, name: str) -> None:
    """Refuse finite values that float32 (what the models compute in) would turn into inf."""
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4 and arr.size:
        big = np.abs(arr[np.isfinite(arr)])
        if big.size and float(big.max()) > FLOAT32_MAX:
            raise ValueError(
                f"{name} holds values up to {float(big.max()):.3g} in absolute value, beyond the "
                f"float32 range (±{FLOAT32_MAX:.3g}) that aelab computes in. Rescale those "
                "features (e.g. divide them, or take a logarithm) first."
            )


def _is_int(t: torch.Tensor) -> bool:
    return t.dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _frame_to_numpy(frame, name: str) -> np.ndarray:
    bad = [str(c) for c, dt in frame.dtypes.items() if dt.kind not in "biuf"]
    if bad:
        raise TypeError(
            f"{name} has non-numeric column(s) {bad}. aelab models take numeric features: "
            "drop those columns or encode them (e.g. one-hot) first."
        )
    return frame.to_numpy(dtype=np.float32)
