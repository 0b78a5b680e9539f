"""Corpus case pyramid-zope: the handler imports every top-level module the set ships."""

from __future__ import annotations

import _distutils_hack
import hupper
import paste
import paste.deploy
import pkg_resources
import plaster
import plaster_pastedeploy
import pyramid
import setuptools
import translationstring
import venusian
import webob
import zope
import zope.deprecation
import zope.interface
import zope.interface._zope_interface_coptimizations
from pyramid.config import Configurator


def _home(request: object) -> dict[str, str]:
    return {"hello": "world"}


MODULES = (
    _distutils_hack,
    hupper,
    paste,
    pkg_resources,
    plaster,
    plaster_pastedeploy,
    pyramid,
    setuptools,
    translationstring,
    venusian,
    webob,
    zope,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    with Configurator() as config:
        config.add_route("home", "/")
        config.add_view(_home, route_name="home", renderer="json")
        app = config.make_wsgi_app()
    response = webob.Request.blank("/").get_response(app)
    return {
        "ok": True,
        "checks": {
            "response": response.json == {"hello": "world"},
            "coptimizations": zope.interface._zope_interface_coptimizations.__file__.endswith(
                ".so"
            ),
            "pkg_resources": pkg_resources.get_distribution("pyramid").version == "2.0.2",
            "paste": hasattr(paste.deploy, "loadapp"),
            "deprecation": hasattr(zope.deprecation, "deprecated"),
        },
    }
