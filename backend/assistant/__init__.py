"""The staff assistant: one tool layer over the backend services, and a local engine that uses it offline.

- `tools.py`: each tool calls the same service a page calls, under the signed-in member's TenantContext,
  so row-level security, branch scope and the permission matrix apply to every answer.
- `local_engine.py`: deterministic intent rules and slot filling over those tools, used when no model
  provider is configured.
- `druginfo.py`: short, sourced drug-information snippets looked up through the drug matcher.
- `safety.py`: what the assistant refuses (dosing beyond the label, its own instructions, other chains).
"""
