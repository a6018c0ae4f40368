"""Tests for adcorrect.numbers.formats: machine-number sets M, checked against independent decoders."""

from __future__ import annotations

import itertools
import math
import struct
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from adcorrect.core.errors import InputError
from adcorrect.numbers.formats import (
    ALIASES,
    Format,
    fp_format,
    int_format,
    list_format,
    listed_formats,
    ocp_format,
    parse_format,
)
from hypothesis import given, settings
from hypothesis import strategies as st

# -- independent references -----------------------------------------------------------------


def decode_ieee_bits(eb: int, sb: int) -> set[Fraction]:
    """Finite values of (_ FloatingPoint eb sb), decoding every bit pattern with the textbook
    formulas: (-1)^s * 2^(e-bias) * 1.f (normal), (-1)^s * 2^(1-bias) * 0.f (e = 0)."""
    bias = 2 ** (eb - 1) - 1
    fbits = sb - 1
    out: set[Fraction] = set()
    for pattern in range(2 ** (1 + eb + fbits)):
        sign = pattern >> (eb + fbits)
        e = (pattern >> fbits) & (2**eb - 1)
        f = pattern & (2**fbits - 1)
        if e == 2**eb - 1:
            continue  # infinities and NaNs
        frac = Fraction(f, 2**fbits)
        if e == 0:
            mag = Fraction(2) ** (1 - bias) * frac
        else:
            mag = Fraction(2) ** (e - bias) * (1 + frac)
        out.add(-mag if sign else mag)
    return out


def finite_values_of_dtype(dtype: object, nbits: int) -> set[Fraction]:
    """Finite values of a numpy/ml_dtypes type, over all its bit patterns."""
    raw = {8: np.uint8, 16: np.uint16}[max(8, nbits)]
    with np.errstate(invalid="ignore"):  # NaN patterns
        patterns = np.arange(2**nbits, dtype=raw).view(dtype).astype(np.float64)
    return {Fraction(float(v)) for v in patterns if np.isfinite(v)}


# fmt: off
SMALL_FORMATS = [
    "fp(2,2)", "fp(3,3)", "fp(2,5)", "fp(5,2)", "e5m2", "e4m3fn", "e3m2", "e2m3", "e2m1",
    "int(8,1)", "int(4,1)", "int(1,3)", "int(5,1/16)", "int(3,2/3)", "list(-1,0,1/2)",
    "list(1/3,7,-5/2)",
]
# fmt: on


# -- sizes and IEEE enumeration -----------------------------------------------------------


@pytest.mark.parametrize("eb", [2, 3, 4, 5])
@pytest.mark.parametrize("sb", [2, 3, 4, 5])
def test_ieee_closed_form_size_and_values_match_bit_decoding(eb: int, sb: int) -> None:
    fmt = parse_format(f"fp({eb},{sb})")
    reference = decode_ieee_bits(eb, sb)
    assert fmt.size == 2**sb * (2**eb - 1) - 1
    assert fmt.size == len(reference)
    assert fmt.values() == tuple(sorted(reference))
    assert fmt.max_abs == max(reference)


def test_theory_sizes() -> None:
    assert parse_format("binary16").size == 63487
    assert parse_format("bfloat16").size == 65279
    assert parse_format("binary32").size == 4278190079


def test_fp16_is_numpy_float16() -> None:
    fmt = parse_format("fp16")
    reference = finite_values_of_dtype(np.float16, 16)
    assert fmt.values() == tuple(sorted(reference))
    assert fmt.max_abs == 65504
    assert fmt.min_exponent == 24


def test_bf16_is_ml_dtypes_bfloat16() -> None:
    fmt = parse_format("bf16")
    reference = finite_values_of_dtype(ml_dtypes.bfloat16, 16)
    assert fmt.values() == tuple(sorted(reference))
    assert fmt.size == len(reference) == 65279


@pytest.mark.parametrize(
    ("name", "dtype", "nbits", "size", "max_abs"),
    [
        ("e5m2", ml_dtypes.float8_e5m2, 8, 247, Fraction(57344)),
        ("e4m3fn", ml_dtypes.float8_e4m3fn, 8, 253, Fraction(448)),
        ("e3m2", ml_dtypes.float6_e3m2fn, 6, 63, Fraction(28)),
        ("e2m3", ml_dtypes.float6_e2m3fn, 6, 63, Fraction(15, 2)),
        ("e2m1", ml_dtypes.float4_e2m1fn, 4, 15, Fraction(6)),
    ],
)
def test_small_floats_match_ml_dtypes(
    name: str, dtype: object, nbits: int, size: int, max_abs: Fraction
) -> None:
    fmt = parse_format(name)
    reference = finite_values_of_dtype(dtype, nbits)
    assert len(reference) == size
    assert fmt.size == size
    assert fmt.values() == tuple(sorted(reference))
    assert fmt.max_abs == max_abs


def test_kinds_and_params() -> None:
    assert parse_format("e4m3fn") == Format("e4m3fn", "ocp", (4, 3))
    assert parse_format("e2m1") == Format("e2m1", "ocp", (2, 1))
    assert parse_format("e5m2") == Format("fp(5,3)", "ieee", (5, 3))
    assert parse_format("fp16") == Format("fp(5,11)", "ieee", (5, 11))
    assert parse_format("int(8,1/16)") == Format(
        "int(8,1/16)", "int", (8, Fraction(1, 16))
    )
    assert parse_format("list(1/2,-1,0,0)") == Format(
        "list(-1,0,1/2)", "list", (Fraction(-1), Fraction(0), Fraction(1, 2))
    )


# -- binary32 without enumeration -------------------------------------------------------------

FP32_TOP = 0x7F7FFFFF  # bit pattern of the largest finite binary32, = number of positive values


def f32_from_bits(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def test_fp32_membership_without_enumeration() -> None:
    fmt = parse_format("fp32")
    assert fmt.contains(Fraction(1, 2**149))
    assert not fmt.contains(Fraction(1, 2**150))
    assert fmt.contains(Fraction(3, 2**149))
    assert fmt.contains(2**127 * (2 - Fraction(1, 2**23)))
    assert fmt.max_abs == 2**127 * (2 - Fraction(1, 2**23))
    assert not fmt.contains(Fraction(2**128))
    assert not fmt.contains(1 + Fraction(1, 2**24))
    assert fmt.contains(1 + Fraction(1, 2**23))
    assert not fmt.contains(Fraction(1, 3))
    assert fmt.contains(-(2**24)) and not fmt.contains(2**24 + 1)
    assert fmt.min_exponent == 149
    assert fmt.index(0) == FP32_TOP
    assert fmt.value(0) == -fmt.max_abs and fmt.value(fmt.size - 1) == fmt.max_abs
    with pytest.raises(
        InputError, match=r"^format fp\(8,24\) has 4278190079 values; too many"
    ):
        fmt.values()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_fp32_index_is_bit_pattern_order(bits: int) -> None:
    """For binary32, sorted position = top +/- (magnitude bit pattern); checked with struct."""
    x = f32_from_bits(bits)
    if not math.isfinite(x):
        return
    fmt = parse_format("fp32")
    fx = Fraction(x)
    mag_bits = bits & 0x7FFFFFFF
    expected = FP32_TOP - mag_bits if bits >> 31 else FP32_TOP + mag_bits
    assert fmt.contains(fx)
    assert fmt.index(fx) == expected
    assert fmt.value(expected) == fx
    if mag_bits < FP32_TOP:
        above = Fraction(f32_from_bits(mag_bits + 1))
        assert not fmt.contains((abs(fx) + above) / 2)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_fp64_contains_python_floats(x: float) -> None:
    fmt = parse_format("fp(11,53)")
    assert fmt.contains(Fraction(x))
    assert fmt.value(fmt.index(Fraction(x))) == Fraction(x)
    assert not fmt.contains(Fraction(x) + Fraction(1, 2**1080))


# -- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SMALL_FORMATS + ["fp16", "bf16"])
def test_contains_index_value_round_trip(name: str) -> None:
    fmt = parse_format(name)
    vals = fmt.values()
    assert len(vals) == fmt.size
    assert all(a < b for a, b in itertools.pairwise(vals))
    assert max(abs(v) for v in vals) == fmt.max_abs
    for i, v in enumerate(vals):
        assert fmt.contains(v)
        assert fmt.index(v) == i
        assert fmt.value(i) == v
    # midpoints and points beyond the range are not members
    for a, b in itertools.pairwise(vals[:51]):
        assert not fmt.contains((a + b) / 2)
    assert not fmt.contains(fmt.max_abs + 1)
    assert not fmt.contains(-fmt.max_abs - Fraction(1, 7))
    with pytest.raises(IndexError):
        fmt.value(fmt.size)
    with pytest.raises(IndexError):
        fmt.value(-1)


def test_index_of_non_member_raises_one_line() -> None:
    fmt = parse_format("e2m1")
    with pytest.raises(InputError) as err:
        fmt.index(Fraction(5, 2))
    assert str(err.value) == "5/2 is not a value of format e2m1"


def test_values_are_cached_and_fractions() -> None:
    fmt = parse_format("e4m3fn")
    assert fmt.values() is parse_format("E4M3FN").values()
    assert all(type(v) is Fraction for v in fmt.values())
    assert fmt.values().count(Fraction(0)) == 1


def test_contains_rejects_inexact_input() -> None:
    with pytest.raises(TypeError):
        parse_format("fp16").contains(0.5)  # type: ignore[arg-type]
    assert 1 in parse_format("fp16")
    assert Fraction(1, 3) not in parse_format("fp16")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SMALL_FORMATS), st.data())
def test_random_member_round_trip(name: str, data: st.DataObject) -> None:
    fmt = parse_format(name)
    x = data.draw(st.sampled_from(fmt.values()))
    assert fmt.contains(x)
    assert fmt.value(fmt.index(x)) == x


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SMALL_FORMATS),
    st.fractions(min_value=-600, max_value=600, max_denominator=2**12),
)
def test_contains_agrees_with_enumeration(name: str, x: Fraction) -> None:
    fmt = parse_format(name)
    assert fmt.contains(x) == (x in set(fmt.values()))


# -- integer grids and lists -------------------------------------------------------------------


def test_int_grids() -> None:
    int8 = parse_format("int8")
    assert int8 == parse_format("int(8,1)") == int_format(8, 1)
    assert int8.values() == tuple(Fraction(k) for k in range(-128, 128))
    assert int8.size == 256 and int8.max_abs == 128 and int8.min_exponent == 0
    assert (
        int8.contains(-128)
        and not int8.contains(128)
        and not int8.contains(Fraction(1, 2))
    )

    q = parse_format("int(8, 1/16)")
    assert q.name == "int(8,1/16)"
    assert q.values()[0] == -8 and q.values()[-1] == Fraction(127, 16)
    assert q.contains(Fraction(3, 16)) and not q.contains(Fraction(1, 32))
    assert q.min_exponent == 4 and q.is_dyadic

    assert parse_format("int(8,0.5)") == parse_format("int(8,1/2)")
    assert parse_format("int(1,3)").values() == (Fraction(-3), Fraction(0))
    assert parse_format("int(4,1)").values() == tuple(Fraction(k) for k in range(-8, 8))

    third = parse_format("int(3,1/3)")
    assert not third.is_dyadic
    assert third.values() == tuple(Fraction(k, 3) for k in range(-4, 4))
    with pytest.raises(InputError, match="not dyadic"):
        third.min_exponent  # noqa: B018

    big = parse_format("int(64,1)")
    assert big.size == 2**64
    assert big.contains(2**63 - 1) and not big.contains(2**63)
    assert big.index(0) == 2**63 and big.value(0) == -(2**63)


def test_lists() -> None:
    fmt = parse_format("list(0.5, -1, 0, 0, 1/2)")
    assert fmt.name == "list(-1,0,1/2)"
    assert fmt.kind == "list"
    assert fmt.values() == (Fraction(-1), Fraction(0), Fraction(1, 2))
    assert fmt.size == 3 and fmt.max_abs == 1 and fmt.min_exponent == 1
    assert fmt.index(Fraction(1, 2)) == 2 and not fmt.contains(Fraction(1, 4))
    assert list_format([3, "1e-3"]).values() == (Fraction(1, 1000), Fraction(3))
    assert not list_format([Fraction(1, 1000)]).is_dyadic
    assert list_format([4, 8]).min_exponent == 0


@pytest.mark.parametrize(
    ("name", "k"),
    [
        ("fp(2,2)", 1),
        ("fp(3,3)", 4),
        ("e2m1", 1),
        ("e4m3fn", 9),
        ("bf16", 133),
        ("e5m2", 16),
    ],
)
def test_min_exponent_is_smallest_scaling(name: str, k: int) -> None:
    fmt = parse_format(name)
    assert fmt.is_dyadic
    assert fmt.min_exponent == k
    assert all((v * 2**k).denominator == 1 for v in fmt.values())
    assert not all((v * 2 ** (k - 1)).denominator == 1 for v in fmt.values())


# -- names --------------------------------------------------------------------------------------


def test_listed_formats() -> None:
    names = [f.name for f in listed_formats()]
    assert names == [
        "fp(5,11)", "fp(8,8)", "fp(8,24)", "fp(5,3)", "e4m3fn", "e3m2", "e2m3", "e2m1",
        "fp(2,2)", "fp(3,3)", "int(8,1)", "int(4,1)",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "name", SMALL_FORMATS + list(ALIASES) + ["fp32", "int(8,1/16)"]
)
def test_canonical_name_round_trips(name: str) -> None:
    fmt = parse_format(name)
    assert parse_format(fmt.name) == fmt
    assert str(fmt) == fmt.name


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("FP16", "fp(5,11)"),
        (" Binary16 ", "fp(5,11)"),
        ("BFloat16", "fp(8,8)"),
        ("b f 1 6", "fp(8,8)"),
        ("FP( 8 , 24 )", "fp(8,24)"),
        ("E5M2", "fp(5,3)"),
        ("E4M3FN", "e4m3fn"),
        ("Int( 8 , 3 )", "int(8,3)"),
        ("LIST( 1 , -1 )", "list(-1,1)"),
    ],
)
def test_case_and_space_insensitive(text: str, canonical: str) -> None:
    assert parse_format(text).name == canonical


def test_unknown_format_message() -> None:
    with pytest.raises(InputError) as err:
        parse_format("xyz")
    assert str(err.value) == (
        "unknown format 'xyz' (known: fp(eb,sb), fp16, bf16, fp32, e5m2, e4m3fn, e3m2, "
        "e2m3, e2m1, int(bits,scale), list(...))"
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("xyz", "unknown format"),
        ("", "unknown format"),
        ("fp8", "unknown format"),
        ("e4m3", "unknown format"),
        ("fp(1,3)", "eb"),
        ("fp(2,1)", "sb"),
        ("fp(0,0)", "eb"),
        ("fp(2.5,3)", "integer"),
        ("fp(5)", "two parameters"),
        ("fp(5,11,3)", "two parameters"),
        ("fp(99,3)", "eb"),
        ("int(0,1)", "bits"),
        ("int(-3,1)", "bits"),
        ("int(8,0)", "positive"),
        ("int(8,-1/2)", "positive"),
        ("int(8,abc)", "not a rational number"),
        ("int(8,nan)", "not a rational number"),
        ("int(8,1/0)", "not a rational number"),
        ("int(x,1)", "integer"),
        ("int(8)", "two parameters"),
        ("list()", "at least one value"),
        ("list(1,x)", "not a rational number: 'x'"),
        ("list(1,inf)", "not a rational number"),
        ("list(1,,2)", "not a rational number"),
        ("foo(1,2)", "unknown format"),
        ("fp(5,11", "unknown format"),
    ],
)
def test_bad_names_raise_one_line(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as err:
        parse_format(text)
    message = str(err.value)
    assert fragment in message
    assert "\n" not in message and message


def test_constructors_validate() -> None:
    assert fp_format(5, 11) == parse_format("fp16")
    assert ocp_format("E2M1") == parse_format("e2m1")
    with pytest.raises(InputError):
        fp_format(1, 5)
    with pytest.raises(InputError):
        ocp_format("e5m2")
    with pytest.raises(InputError):
        int_format(8, 0)
    with pytest.raises(InputError):
        list_format([])


def test_huge_format_text_short_error() -> None:
    """Issue 19: a 100,000-digit bit count is refused before int() and the text is elided."""
    for text in (f"fp({'9' * 100_000},2)", f"int({'1' * 100_000},1)",
                 f"bogus{'x' * 100_000}"):
        with pytest.raises(InputError) as e:
            parse_format(text)
        assert len(str(e.value)) < 300
        assert "characters)..." in str(e.value)
