"""Bronze -> silver quality: cleansing, row and table expectations, and quarantine.

Every row-level problem is recorded on the row, never raised: `_failed_rules` (array<string>) names
what the row broke ("cast:<column>", "malformed_record" or an expectation rule's name) and
`_failure_details` (array<string>) holds one human-readable message per entry, in the same order.
Rows with an empty `_failed_rules` go to silver, the rest to quarantine.
"""
