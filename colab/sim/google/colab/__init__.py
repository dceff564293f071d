"""A stand-in for Google Colab's ``google.colab`` package, used by ``tools/colab_sim.py`` (make test-colab).

On Colab the kernel's class lives in this package, so ``google.colab`` is in ``sys.modules`` from the
kernel's start: that is what the notebooks' setup cells test. Only what the course relies on is
simulated: the module itself and the kernel's shell class, a subclass of ipykernel's
``ZMQInteractiveShell`` (``course_utils.repro.is_headless`` counts it as a person's kernel).
"""
