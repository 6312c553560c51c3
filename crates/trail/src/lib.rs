//! Trails: which records a trail selects, and their delivery as CloudTrail log files.
