import greenlet
import jupyterlab_widgets
import pydantic
import pydantic_core
import setuptools
import yaml
import zope.interface
from google.protobuf import descriptor_pb2


def handler(event, context):
    return {
        "ok": True,
        "pydantic": pydantic.VERSION,
        "pydantic_core": pydantic_core.__version__,
        "greenlet": greenlet.__version__,
        "yaml_c": yaml.__with_libyaml__,
        "zope": zope.interface.Interface.__name__,
        "widgets": jupyterlab_widgets.__name__,
        "setuptools": setuptools.__version__,
        "protobuf": descriptor_pb2.FileDescriptorProto.__name__,
    }
