"""The kit's container images (`invoke docker.*`): each image is a folder docker/<image>/ holding
its Dockerfile, install.sh, test.py, README.md and config.yml (the image's facts: base image,
GPU or not, extras, which versions.yml entries it takes as build args); this package reads those
folders and builds, tests and benches the images with the Docker SDK.

`images.config` is the image facts and build arguments; `images.containers` talks to the daemon.
Python 3.6-compatible: the Nano's images role runs `invoke docker.build` on its system Python.
"""
