"""The Jinja2 templates of the generated module, installed as the package ``rhythm_templates``.

They live at the top of the repository, as the design card lays it out; the
wheel ships them as package data so that an installed `rhythm compile` works.
"""
