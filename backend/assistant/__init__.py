"""The staff assistant: one tool layer over the backend services, and a local engine that uses it offline.

- `tools.py`: each tool calls the same service a page calls, under the signed-in member's TenantContext,
  so row-level security, branch scope and the permission matrix apply to every answer.
- `products.py`: which catalog products a stock question names (strength, form, release, maker and
  barcode narrow it; a generic at one strength is a group with its total, then each maker's product),
  and the maker of every alert line, so no answer merges two products.
- `local_engine.py`: deterministic intent rules and slot filling over those tools, used when no model
  provider is configured.
- `druginfo.py`: short, sourced drug-information snippets looked up through the drug matcher.
- `safety.py`: what the assistant refuses (dosing beyond the label, its own instructions, other chains).
"""
