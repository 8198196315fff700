"""Custom Keras layers (serialisable, registered under the package name "cnnlab")."""

from cnnlab.layers.p4 import ROTATIONS, GroupPool, P4ConvP4, P4ConvZ2, P4Dense, group_bank, lifting_bank

__all__ = ["ROTATIONS", "GroupPool", "P4ConvP4", "P4ConvZ2", "P4Dense", "group_bank", "lifting_bank"]
