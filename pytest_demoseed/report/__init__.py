"""What people see: the summary lines, live progress inside pytest, the command's progress reporters.

May import ``build`` and everything below it; never ``storage``, ``plugin`` or ``election``.
"""
