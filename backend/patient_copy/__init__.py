"""A patient's own copy (issue 16, section 4): everything the chain holds about one patient, as a PDF and
a JSON file, and the record of the request and its delivery (HIPAA right of access, 30 days)."""
