"""core: the contract every stage speaks, and nothing that depends on data.

In: nothing from the rest of the package (core imports no other stage). Out: the canonical
tables' names and dtypes (``schema``), reporting periods (``periods``), Vietnamese working days
(``workdays``), the metric catalogue with every rate's numerator and denominator (``metrics``)
and the targets (``targets``), the one error family (``errors.CchcError``), the one Vietnamese
text fold (``text``), the folder lock (``locking``), where the package's files live
(``resources``) and its version (``version``).

Core never reads a data folder, never counts and never formats for a reader.
"""
