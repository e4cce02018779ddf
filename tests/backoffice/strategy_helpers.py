"""Helpers for the strategy back-office tests: a configured organization and form data
read from a rendered page, so that a test posts what a person would."""

from html.parser import HTMLParser

from recobro.strategy.yaml_io import import_configuration
from tests.strategy.config_sample import SAMPLE


def configure(cast) -> None:
    import_configuration(organization=cast.mx, text=SAMPLE, actor=cast.actor())


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__()
        self.form_id = form_id
        self.inside = form_id is None
        self.data: dict[str, list[str]] = {}
        self.select: str | None = None
        self.option_value: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.form_id is not None:
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                self.data.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name and "__prefix__" not in name:
            self.select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = [a.get("value", "")]
        elif tag == "textarea" and name and "__prefix__" not in name:
            self.textarea, self.text = name, ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.data[self.textarea] = [self.text.removeprefix("\n")]
            self.textarea = None
        elif tag == "form" and self.form_id is not None:
            self.inside = False


def form_data(response, form_id: str | None = None) -> dict:
    """The values a browser would post from the page's form (first value of each name,
    lists for multiple choices)."""
    parser = _FormParser(form_id)
    parser.feed(response.content.decode())
    skip = {"csrfmiddlewaretoken", "s", "language", "next"}
    return {k: (v if len(v) != 1 else v[0]) for k, v in parser.data.items() if k not in skip}
