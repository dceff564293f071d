"""Colab's IPython shell: like Colab's ``google.colab._shell.Shell``, a subclass of ipykernel's shell."""
from ipykernel import zmqshell


class Shell(zmqshell.ZMQInteractiveShell):
    """The shell of the simulated Colab kernel; it adds nothing to ipykernel's."""
