// Live figures for the staff console: a page with data-live="<url>" polls that JSON every
// few seconds and updates its [data-field], progress[data-bar] and [data-text] elements.
// The only script of the web pages (their CSP allows scripts from this origin only).
"use strict";
(function () {
  const root = document.querySelector("[data-live]");
  if (!root) return;
  const url = root.getAttribute("data-live");
  const EVERY_MS = 2000;

  function lookup(data, path) {
    return path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);
  }

  function apply(data) {
    root.querySelectorAll("[data-field]").forEach((element) => {
      const value = lookup(data, element.getAttribute("data-field"));
      if (value !== undefined && value !== null) element.textContent = String(value);
    });
    root.querySelectorAll("progress[data-bar], [data-text]").forEach((element) => {
      const key = element.getAttribute("data-bar") || element.getAttribute("data-text");
      const cut = key.indexOf("|");
      const campaign = data.campaigns[key.slice(0, cut)];
      const bar = campaign && campaign.bars[key.slice(cut + 1)];
      if (!bar) return;
      if (element.tagName === "PROGRESS") {
        element.max = Math.max(bar.max, 1);
        element.value = bar.value;
        element.textContent = bar.percent + " %";
      } else {
        element.textContent = bar.value + " / " + bar.max + " (" + bar.percent + " %)";
      }
    });
    const stamp = root.querySelector("[data-updated]");
    if (stamp) stamp.textContent = "Updated " + new Date().toLocaleTimeString();
  }

  async function poll() {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
      if (!response.ok) return; // signed out or refused: stop; a reload shows why
      apply(await response.json());
    } catch (error) {
      // a network hiccup: try again at the next tick
    }
    window.setTimeout(poll, EVERY_MS);
  }
  window.setTimeout(poll, EVERY_MS);
})();
