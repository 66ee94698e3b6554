"""The pick lists' <option>s written in one pass: the chosen one selected (compared as text), none when nothing is
chosen, values and labels escaped."""

from django.template import Context, Template


def render(choices, chosen) -> str:
    template = Template("{% load select_tags %}{% options choices chosen %}")
    return template.render(Context({"choices": choices, "chosen": chosen}))


def test_the_chosen_value_is_selected_whether_asked_as_text_or_number():
    pairs = [("", "Any territory"), ("none", "No territory"), (7, "North & co")]
    assert (
        render(pairs, "7")
        == render(pairs, 7)
        == (
            '<option value="">Any territory</option><option value="none">No territory</option>'
            '<option value="7" selected>North &amp; co</option>'
        )
    )
    assert "selected" not in render(pairs, None)
    assert '<option value="" selected>' in render(pairs, "")


def test_plain_values_are_their_own_labels_and_are_escaped():
    assert render(['Software "SaaS"', "<b>Retail</b>"], "<b>Retail</b>") == (
        '<option value="Software &quot;SaaS&quot;">Software &quot;SaaS&quot;</option>'
        '<option value="&lt;b&gt;Retail&lt;/b&gt;" selected>&lt;b&gt;Retail&lt;/b&gt;</option>'
    )
