"""Keyboard shortcuts of the counter, handled in the browser.

A key only clicks or focuses an element the page already has (a button with its own server event, or
a field), so no keystroke goes to the server by itself and a shortcut can never do more than a click.
Elements are found by the ids and classes the counter page gives them:
#pos-scan, #pos-cash, #pos-card, #pos-new-sale, #pos-print, #pos-cancel, rows tr.pos-line with .pos-qty fields
(the class is on the wrapper of the input) and .pos-plus / .pos-minus buttons, and .pos-match buttons.

A quantity or discount field (.pos-edit) is saved when the cursor leaves it (its blur event). Moving focus
does that for Tab, F4 and F8, but a key that clicks a button (F7, F2, F9, + and −) leaves the cursor where
it is, and a tap on a touch screen may not move it either. So before any of those the field is blurred
first: its save is queued before the click's event, and the server handles one tab's events in order.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

COUNTER_KEYS_JS = """
useEffect(() => {
  if (typeof window === "undefined") return;
  const editing = () => {
    const el = document.activeElement;
    return el && el.closest && el.closest(".pos-edit") ? el : null;
  };
  const commit = () => {
    const el = editing();
    if (el) el.blur();
  };
  const click = (selector) => {
    const el = document.querySelector(selector);
    if (!el || el.disabled) return false;
    el.click();
    return true;
  };
  const focus = (id) => {
    const el = document.getElementById(id);
    if (!el) return;
    el.focus();
    if (el.select) el.select();
  };
  const step = (event) => {
    const target = event.target;
    let row = null;
    if (target.closest && target.closest(".pos-qty")) {
      // Radix puts the class on the field's wrapper, around the input itself.
      row = target.closest("tr");
    } else if (target.id === "pos-scan" && !target.value) {
      // An empty scan field: + and - change the line scanned last, like a second scan would.
      const rows = document.querySelectorAll("tr.pos-line");
      row = rows[rows.length - 1] || null;
    }
    if (!row) return;
    event.preventDefault();
    commit();  // a number typed before + counts: 10 then + is 11
    const button = row.querySelector(event.key === "+" ? ".pos-plus" : ".pos-minus");
    if (button) button.click();
  };
  const move = (event) => {
    const target = event.target;
    const matches = Array.from(document.querySelectorAll(".pos-match"));
    const inList = matches.indexOf(target);
    if (!matches.length || (inList < 0 && target.id !== "pos-scan")) return;
    event.preventDefault();
    const next = inList < 0 ? 0 : inList + (event.key === "ArrowDown" ? 1 : -1);
    if (next < 0) focus("pos-scan");
    else matches[Math.min(next, matches.length - 1)].focus();
  };
  const onKey = (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (/^F[0-9]+$/.test(event.key)) commit();
    switch (event.key) {
      case "F2": event.preventDefault(); click("#pos-new-sale"); return;
      case "F4": event.preventDefault(); focus("pos-scan"); return;
      case "F7": event.preventDefault(); click("#pos-card"); return;
      case "F8": event.preventDefault(); focus("pos-cash"); return;
      case "F9": event.preventDefault(); click("#pos-print"); return;
      case "Escape": if (click("#pos-cancel")) event.preventDefault(); return;
      case "+": case "-": step(event); return;
      case "ArrowDown": case "ArrowUp": move(event); return;
      default: return;
    }
  };
  // A press anywhere outside the field being edited saves it before that press's own click (a mouse
  // moves the focus anyway; iOS does not when the tap lands on a button or on the page).
  const onPointer = (event) => {
    const el = editing();
    if (el && !el.contains(event.target)) el.blur();
  };
  document.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", onPointer, true);
  return () => {
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("pointerdown", onPointer, true);
  };
}, []);
"""


class CounterKeys(rx.Fragment):
    """Renders nothing; installs the counter's key handler while the page is open."""

    def add_imports(self) -> dict[str, Any]:
        return {"react": "useEffect"}

    def add_hooks(self) -> list[str | rx.Var]:
        return [COUNTER_KEYS_JS]


counter_keys = CounterKeys.create


QUEUE_KEYS_JS = """
useEffect(() => {
  if (typeof window === "undefined") return;
  const onKey = (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA");
    if (event.key === "/" && !typing) {
      const search = document.getElementById("rx-queue-search");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const links = Array.from(document.querySelectorAll("a.rx-link"));
    const at = links.indexOf(target);
    if (!links.length || (at < 0 && target.id !== "rx-queue-search")) return;
    event.preventDefault();
    const next = at < 0 ? 0 : at + (event.key === "ArrowDown" ? 1 : -1);
    if (next < 0) document.getElementById("rx-queue-search").focus();
    else links[Math.min(next, links.length - 1)].focus();
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}, []);
"""


class QueueKeys(rx.Fragment):
    """The prescription queue's keys: / to search, arrow keys through the prescriptions, Enter opens one."""

    def add_imports(self) -> dict[str, Any]:
        return {"react": "useEffect"}

    def add_hooks(self) -> list[str | rx.Var]:
        return [QUEUE_KEYS_JS]


queue_keys = QueueKeys.create
