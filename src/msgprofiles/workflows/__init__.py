"""Processes that span several domains (profile completion; customer onboarding next). A
workflow holds the sequence and calls each domain's service functions; no domain imports a
workflow."""
