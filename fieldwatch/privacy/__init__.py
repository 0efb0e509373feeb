"""Privacy (PIPL): residents' contact details are kept only as long as they are needed.

`fieldwatch privacy purge` (run daily by the fieldwatch-privacy timer) erases the
contact fields of problems that ended more than FIELDWATCH_CONTACT_RETENTION_DAYS
ago. Who may see contacts meanwhile is the policy's `issues.view_contact`.
"""
