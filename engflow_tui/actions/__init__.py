"""Actions: plan() -> ActionPlan (targets, exact SQL or request); execute() after confirmation;
every confirmed action, refusal and failure goes to the audit log. No Textual."""
