from core.textfmt import pct


def test_pct_is_pt_br():
    assert pct(0.1437, 1) == "14,4%"
    assert pct(12.3456, 2) == "1.234,56%"
    assert pct(-0.005, 2) == "-0,50%"
