from hypothesis import given, settings, strategies as st
from guichet.waitlist.identity import normalise_names
@settings(max_examples=20000)
@given(st.text(st.characters(categories=["L", "M", "Zs", "Pd", "Nd", "Po", "Cf"]), max_size=20))
def test_idem(s):
    once = normalise_names(s)
    assert normalise_names(once) == once
@settings(max_examples=20000)
@given(st.text(st.characters(categories=["L", "M", "Zs"]), max_size=20))
def test_case(s):
    assert normalise_names(s.upper()) == normalise_names(s)
