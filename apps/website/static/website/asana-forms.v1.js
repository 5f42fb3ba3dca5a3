/*! asana-forms v1: enhances the center's plain HTML forms. No dependencies, no cookies,
 * no tracking, nothing loaded from anywhere but the API the forms post to. docs/website.md */
(function () {
  "use strict";

  var ATTRIBUTION_KEY = "asanaForms.attribution.v1";
  var CAMPAIGN_PARAMS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "gclid", "fbclid"];
  var REQUIRED = {
    contact: ["first_name", "last_name", "message"],
    verification: ["first_name", "last_name", "date_of_birth", "insurance_provider", "member_id"],
    book: ["first_name", "email"]
  };
  var MSG = {
    required: "This field is required.",
    email: "Enter a valid email address.",
    phone: "Enter a phone number, such as (555) 123-4567 or +44 20 7946 0958.",
    emailOrPhone: "Give an email address or a phone number.",
    date: "Enter a date as YYYY-MM-DD.",
    future: "Cannot be in the future.",
    tooOld: "Cannot be more than 120 years ago.",
    memberId: "Use only letters, digits, spaces and dashes.",
    lovedOne: "Required when seeking treatment for a loved one.",
    fileType: "Use a JPEG, PNG, HEIC or PDF file.",
    network: "We could not reach our server, so nothing was sent yet. Check your connection and " +
      "press the button again (what you typed is kept)"
  };
  var FILE_TYPES = /\.(jpe?g|png|heic|heif|pdf)$/i;
  var OTHER_PAYER = "__other__";

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function otherOrigin(url) {
    try { return !!url && new URL(url).origin !== location.origin; } catch (e) { return false; }
  }

  // Attribution for the visit: campaign parameters of the landing URL and the page the visitor
  // came from, kept in sessionStorage (this tab only, gone when it closes) so they survive the
  // way from the landing page to the form page.
  function attribution() {
    var store = storage(), saved = {};
    try { saved = JSON.parse((store && store.getItem(ATTRIBUTION_KEY)) || "{}") || {}; } catch (e) {}
    var params = new URLSearchParams(location.search), campaign = {}, tagged = false;
    CAMPAIGN_PARAMS.forEach(function (name) {
      var value = params.get(name);
      if (value) { campaign[name] = value.slice(0, 255); tagged = true; }
    });
    if (tagged) saved = campaign;  // a new tagged landing starts a new campaign
    if (otherOrigin(document.referrer) && (tagged || !saved.referrer)) {
      saved.referrer = document.referrer.slice(0, 2048);
    }
    try { if (store) store.setItem(ATTRIBUTION_KEY, JSON.stringify(saved)); } catch (e) {}
    return saved;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); });
    return [hex.slice(0, 4), hex.slice(4, 6), hex.slice(6, 8), hex.slice(8, 10), hex.slice(10)]
      .map(function (part) { return part.join(""); }).join("-");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function setHidden(form, name, value) {
    var input = form.querySelector('input[type=hidden][name="' + name + '"]');
    if (input && value) input.value = value;
  }

  function apiUrl(form, path) {
    return new URL(path, form.action).href;
  }

  function centerPhone(form) {
    var link = form.querySelector('a[href^="tel:"]:not([href="tel:988"]):not([href="tel:911"])');
    return link ? link.textContent : "";
  }

  function Kit(form) {
    this.form = form;
    this.kind = form.getAttribute("data-asana-form");
    this.prefix = form.id;
    this.key = newKey();
    this.attempted = false;
    this.sending = false;
    this.button = form.querySelector("button[type=submit]");
    this.summary = form.querySelector(".af-summary");
    form.noValidate = true;  // our checks, shown next to each field, replace the bubbles
    form.setAttribute("data-enhanced", "");
    var self = this;
    form.addEventListener("submit", function (event) { event.preventDefault(); self.submit(); });
    form.addEventListener("input", function () { self.edited(); });
    form.addEventListener("change", function (event) { self.edited(); self.changed(event.target); });
    this.token();
    this.payers();
    this.lovedOne();
  }

  Kit.prototype.id = function (name) { return this.prefix + "-" + name; };
  Kit.prototype.byId = function (name) { return document.getElementById(this.id(name)); };

  // After an attempt, an edit makes a new fill: a changed body under the old key would be 422.
  Kit.prototype.edited = function () {
    if (this.attempted) { this.key = newKey(); this.attempted = false; }
  };

  Kit.prototype.changed = function (target) {
    if (target.type === "file") this.showErrors(this.checkFile(target, {}), [target.name]);
    if (target.name === "seeking_treatment_for") this.lovedOne();
  };

  Kit.prototype.token = function () {
    var input = this.form.querySelector('input[name="form_token"]');
    if (!input || input.value) return;
    fetch(apiUrl(this.form, "/api/v1/form-tokens/"), {
      credentials: "omit", headers: { Accept: "application/json" }, cache: "no-store"
    }).then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (body) { if (body.form_token) input.value = body.form_token; })
      .catch(function () {});  // no token: the post is judged as one without JavaScript
  };

  Kit.prototype.lovedOne = function () {
    var group = this.form.querySelector('[data-show-when="loved_one"]');
    if (!group) return;
    var chosen = this.form.querySelector('input[name="seeking_treatment_for"]:checked');
    var show = !!chosen && chosen.value === "loved_one";
    group.hidden = !show;
    group.disabled = !show;
  };

  // The insurance dropdown: in-network payers first (as the API orders them), then the rest,
  // then "Other / not listed", which reveals the text field the plain form always had.
  Kit.prototype.payers = function () {
    var field = this.form.querySelector("[data-payer-field]");
    if (!field) return;
    var self = this, text = field.querySelector('input[name="insurance_provider"]');
    fetch(apiUrl(this.form, "/api/v1/payers/"), {
      credentials: "omit", headers: { Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error("payers " + response.status);
      return response.json();
    }).then(function (payers) {
      if (!payers.length) return;
      var select = el("select", { id: self.id("insurance_provider"),
        "aria-describedby": self.id("insurance_provider-error") });
      select.appendChild(el("option", { value: "" }, "Choose your insurance"));
      var inNetwork = el("optgroup", { label: "In network with us" });
      var others = el("optgroup", { label: "Other plans" });
      payers.forEach(function (payer) {
        (payer.in_network ? inNetwork : others).appendChild(el("option", { value: payer.slug }, payer.name));
      });
      if (inNetwork.children.length) select.appendChild(inNetwork);
      if (others.children.length) select.appendChild(others);
      select.appendChild(el("option", { value: OTHER_PAYER }, "Other / not listed"));
      var typed = el("div", { "class": "af-field", hidden: "" });
      text.id = self.id("insurance_provider_text");
      typed.appendChild(el("label", { "for": text.id }, "Your insurance provider's name"));
      text.removeAttribute("required");
      typed.appendChild(text);
      field.querySelector("label").after(select);
      field.after(typed);
      select.addEventListener("change", function () {
        var other = select.value === OTHER_PAYER;
        typed.hidden = !other;
        text.value = other ? "" : select.value;
      });
      self.payerSelect = select;
    }).catch(function () {});  // the typed field stays: every name typed there is matched
  };

  Kit.prototype.value = function (name) {
    var field = this.form.elements[name];
    if (!field || field.disabled) return "";
    return (field.value || "").trim();
  };

  Kit.prototype.checkDate = function (name, problems) {
    var value = this.value(name);
    if (!value) return;
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    var date = match && new Date(+match[1], match[2] - 1, +match[3]);
    if (!date || date.getMonth() !== match[2] - 1) { problems[name] = [MSG.date]; return; }
    var today = new Date(), oldest = new Date(today.getFullYear() - 120, today.getMonth(), today.getDate());
    today.setHours(23, 59, 59, 999);
    if (date > today) problems[name] = [MSG.future];
    else if (date < oldest) problems[name] = [MSG.tooOld];
  };

  Kit.prototype.checkFile = function (input, problems) {
    var file = input.files && input.files[0];
    var max = +input.getAttribute("data-max-bytes") || 10485760;
    if (!file) return problems;
    if (!FILE_TYPES.test(file.name) && !/^(image\/(jpeg|png|heic|heif)|application\/pdf)$/.test(file.type)) {
      problems[input.name] = [MSG.fileType];
    } else if (file.size > max) {
      problems[input.name] = ["This file is " + (file.size / 1048576).toFixed(1) +
        " MB; the limit is " + Math.floor(max / 1048576) + " MB. Choose a smaller photo."];
    }
    return problems;
  };

  // The server's rules (docs/api.md), checked before sending; the server checks them again.
  Kit.prototype.check = function () {
    var self = this, problems = {}, form = this.form;
    (REQUIRED[this.kind] || []).forEach(function (name) {
      if (!self.value(name)) problems[name] = [MSG.required];
    });
    if (this.payerSelect && !this.payerSelect.value) problems.insurance_provider = [MSG.required];
    if (this.kind === "verification" && this.value("seeking_treatment_for") === "loved_one") {
      ["patient_first_name", "patient_last_name"].forEach(function (name) {
        if (!self.value(name)) problems[name] = [MSG.lovedOne];
      });
    }
    var email = this.value("email"), phone = this.value("phone");
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.email = [MSG.email];
    if (phone) {
      var digits = phone.replace(/\D/g, "");
      var ok = phone.charAt(0) === "+" ? digits.length >= 8 && digits.length <= 15
        : digits.length === 10 || (digits.length === 11 && digits.charAt(0) === "1");
      if (!ok || /[A-Za-z]/.test(phone.replace(/ext\.?|x/gi, ""))) problems.phone = [MSG.phone];
    }
    if (this.kind !== "book" && !email && !phone && !problems.email) {
      problems.non_field_errors = [MSG.emailOrPhone];
      problems.email = [MSG.emailOrPhone];
    }
    this.checkDate("date_of_birth", problems);
    this.checkDate("policy_holder_dob", problems);
    var member = this.value("member_id");
    if (member && !/^[A-Za-z0-9 -]+$/.test(member)) problems.member_id = [MSG.memberId];
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      self.checkFile(input, problems);
    });
    return problems;
  };

  // Errors next to their fields (aria-describedby already points there), a summary read out
  // at once (role=alert), and the focus on the first field to fix. `only` limits the clearing
  // to some fields (a file checked on change).
  Kit.prototype.showErrors = function (problems, only) {
    var self = this, first = null, general = [];
    Array.prototype.forEach.call(this.form.querySelectorAll(".af-error"), function (node) {
      var name = node.id.slice(self.prefix.length + 1, -"-error".length);
      if (only && only.indexOf(name) < 0) return;
      var control = self.byId(name) || self.form.elements[name];
      var messages = problems[name];
      node.textContent = messages ? messages.join(" ") : "";
      if (control && control.setAttribute) {
        if (messages) control.setAttribute("aria-invalid", "true");
        else control.removeAttribute("aria-invalid");
      }
      if (messages && !first) {
        first = control && control.tagName === "FIELDSET" ? control.querySelector("input") : control;
      }
    });
    Object.keys(problems).forEach(function (name) {
      if (name === "non_field_errors" || name === "detail" || !document.getElementById(self.id(name + "-error"))) {
        general = general.concat(problems[name]);
      }
    });
    if (only) return;
    var count = Object.keys(problems).filter(function (name) {
      return name !== "non_field_errors" && name !== "detail";
    }).length;
    var text = general.join(" ");
    if (count) text = (count === 1 ? "Please fix the field marked above." : "Please fix the " +
      count + " fields marked above.") + (text ? " " + text : "");
    this.summary.textContent = text;
    if (first) first.focus();
  };

  Kit.prototype.consentText = function () {
    var parts = this.form.querySelectorAll("[data-consent-part]");
    var text = Array.prototype.map.call(parts, function (node) { return node.textContent; }).join(" ");
    return text.replace(/\s+/g, " ").trim();
  };

  Kit.prototype.fillHidden = function () {
    var saved = attribution(), form = this.form;
    CAMPAIGN_PARAMS.forEach(function (name) { setHidden(form, name, saved[name]); });
    setHidden(form, "page_url", location.href.slice(0, 2048));
    setHidden(form, "referrer", saved.referrer || document.referrer.slice(0, 2048));
    setHidden(form, "consent_text", this.consentText());
  };

  Kit.prototype.busy = function (on) {
    this.sending = on;
    this.button.disabled = on;
    this.form.setAttribute("aria-busy", on ? "true" : "false");
    if (on) { this.label = this.button.textContent; this.button.textContent = "Sending…"; }
    else if (this.label) this.button.textContent = this.label;
  };

  Kit.prototype.submit = function () {
    if (this.sending) return;
    this.fillHidden();
    var problems = this.check();
    this.showErrors(problems);
    if (Object.keys(problems).length) return;
    var self = this;
    this.busy(true);
    this.attempted = true;
    fetch(this.form.action, {
      method: "POST",
      body: new FormData(this.form),
      credentials: "omit",
      headers: { Accept: "application/json", "Idempotency-Key": this.key }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        self.answer(response.status, body);
      });
    }).catch(function () {
      self.busy(false);
      self.showErrors({ detail: [MSG.network + (centerPhone(self.form) ? ", or call us at " +
        centerPhone(self.form) + "." : ".")] });
    });
  };

  Kit.prototype.answer = function (status, body) {
    var phone = centerPhone(this.form), call = phone ? " You can also call us at " + phone + "." : "";
    if (status === 201) return this.success(body);
    this.busy(false);
    if (status === 400 || (status === 413 && !body.detail)) return this.showErrors(body);
    var messages = {
      413: "That was too large to send. Choose smaller photos (at most 10 MB each).",
      429: "Too many attempts from this connection. Please wait a few minutes and try again.",
      503: "We could not save your request just now. Please try again in a minute."
    };
    this.showErrors({ detail: [(messages[status] || body.detail || "Something went wrong, so nothing was sent.") + call] });
  };

  Kit.prototype.success = function (body) {
    var box = el("section", { "class": "af-success", tabindex: "-1",
      "aria-labelledby": this.id("success-title") });
    var crisis = body.crisis_resources;
    if (crisis) box.appendChild(crisisBox(crisis));
    box.appendChild(el("h3", { id: this.id("success-title") }, "Thank you, we have it"));
    if (body.reference) {
      box.appendChild(el("p", {}, "Your reference (quote it if you call us):"));
      box.appendChild(el("p", { "class": "af-reference" }, body.reference));
    }
    if (body.next_steps) box.appendChild(el("p", {}, body.next_steps));
    this.form.hidden = true;
    this.form.after(box);
    this.key = newKey();
    box.focus();
  };

  function crisisBox(crisis) {
    var box = el("div", { "class": "af-crisis", role: "alert" });
    var lifeline = crisis.lifeline || {}, emergency = crisis.emergency || {};
    box.appendChild(el("h3", {}, "You are not alone. Help is available right now."));
    if (crisis.message) box.appendChild(el("p", {}, crisis.message));
    var line = el("p", { "class": "af-big" }, "Call or text ");
    line.appendChild(el("a", { href: "tel:" + (lifeline.call || "988") }, lifeline.call || "988"));
    line.appendChild(document.createTextNode(": " + (lifeline.name || "988 Suicide & Crisis Lifeline")));
    box.appendChild(line);
    var sms = el("p", {}, "Text: ");
    sms.appendChild(el("a", { href: "sms:" + (lifeline.text || "988") }, "send a text to " + (lifeline.text || "988")));
    box.appendChild(sms);
    var sos = el("p", { "class": "af-big" }, "Emergency: call ");
    sos.appendChild(el("a", { href: "tel:" + (emergency.call || "911") }, emergency.call || "911"));
    box.appendChild(sos);
    if (crisis.overdose) box.appendChild(el("p", {}, crisis.overdose));
    if (/^https:\/\//.test(lifeline.chat || "")) {
      var chat = el("p", {}, "Chat online: ");
      chat.appendChild(el("a", { href: lifeline.chat }, lifeline.chat.replace(/^https:\/\//, "")));
      box.appendChild(chat);
    }
    if (crisis.spanish) box.appendChild(el("p", { lang: "es" }, crisis.spanish));
    return box;
  }

  function start() {
    attribution();  // on every page, so a landing page's campaign is kept for the form page
    if (!window.fetch || !window.FormData || !window.URLSearchParams) return;  // the plain forms work
    Array.prototype.forEach.call(document.querySelectorAll("form[data-asana-form]"), function (form) {
      if (!form.hasAttribute("data-enhanced")) new Kit(form);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
