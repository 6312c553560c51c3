//! Log file integrity: signed, chained digest files, their keys, and validation.
