"""Colab's kernel class: ipykernel's IPython kernel with Colab's shell (``google.colab._shell.Shell``).

Started with ``python -m ipykernel_launcher --IPKernelApp.kernel_class=google.colab._kernel.Kernel``,
which imports this module, and so ``google.colab``, before the first cell runs, as on Colab.
"""
from ipykernel import ipkernel
from traitlets import default

from . import _shell


class Kernel(ipkernel.IPythonKernel):
    """ipykernel's kernel whose shell is ``google.colab._shell.Shell``."""

    @default("shell_class")
    def _shell_class_default(self) -> type:
        return _shell.Shell
