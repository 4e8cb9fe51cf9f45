// The questionnaire page: fetch the questions from the API, check the answers, ask for a
// recommendation and show the Mysfit. No framework and no build step; every text the
// visitor reads about the questions comes from GET /questionnaire, so there is one copy.
(function () {
  "use strict";

  const DEFAULT_CONFIG = { apiBaseUrl: "", requestTimeoutMs: 10000 };
  const el = (id) => document.getElementById(id);
  const view = {
    loading: el("loading"),
    loadingText: el("loading-text"),
    problem: el("problem"),
    problemTitle: el("problem-title"),
    problemText: el("problem-text"),
    retry: el("retry"),
    form: el("questionnaire"),
    questions: el("questions"),
    summary: el("form-summary"),
    submit: el("submit"),
    result: el("result"),
    again: el("again"),
    title: el("title"),
    intro: el("intro"),
  };
  let config = DEFAULT_CONFIG;
  let questionnaire = null;
  let retryAction = null;

  // A failed request, sorted into the few cases a visitor needs told apart.
  class ApiProblem extends Error {
    constructor(kind, detail, status) {
      super(detail || kind);
      this.kind = kind; // "network" | "timeout" | "client" | "server" | "response"
      this.detail = detail;
      this.status = status;
    }
  }

  const PROBLEM_TEXT = {
    network: () => ["We couldn't reach the Mysfits service",
      "Check your internet connection, then try again."],
    timeout: () => ["The Mysfits service is taking too long",
      `It did not answer within ${Math.round(config.requestTimeoutMs / 1000)} seconds. Please try again.`],
    client: (p) => ["The service couldn't use that request",
      p.detail ? `It said: “${p.detail}”` : `It answered with error ${p.status}.`],
    server: (p) => ["The Mysfits service ran into a problem",
      `It answered with error ${p.status}${p.detail ? ` (“${p.detail}”)` : ""}. Please try again in a moment.`],
    response: () => ["The service sent an answer we could not read",
      "Please try again. If it keeps happening, the service may be misconfigured."],
  };

  function apiUrl(path) {
    return String(config.apiBaseUrl || "").replace(/\/+$/, "") + path;
  }

  async function request(path, options) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.requestTimeoutMs);
    let response;
    try {
      response = await fetch(apiUrl(path), { ...options, signal: controller.signal });
    } catch (error) {
      throw new ApiProblem(error.name === "AbortError" ? "timeout" : "network");
    } finally {
      clearTimeout(timer);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (!response.ok) {
      const kind = response.status >= 500 ? "server" : "client";
      throw new ApiProblem(kind, messageFrom(body), response.status);
    }
    if (body === null || typeof body !== "object") throw new ApiProblem("response");
    return body;
  }

  // Error bodies are {"message": "..."} from API Gateway and our handler; accept a nested error too.
  function messageFrom(body) {
    if (!body || typeof body !== "object") return "";
    const error = body.error && typeof body.error === "object" ? body.error : body;
    return typeof error.message === "string" ? error.message : "";
  }

  async function loadConfig() {
    try {
      const response = await fetch("config.json", { cache: "no-cache" });
      if (response.ok) config = { ...DEFAULT_CONFIG, ...(await response.json()) };
    } catch (error) {
      console.warn("config.json could not be read; using the same origin for the API", error);
    }
  }

  function show(part) {
    view.loading.hidden = part !== "loading";
    view.problem.hidden = part !== "problem";
    view.form.hidden = !(part === "form" || part === "submitting");
    view.result.hidden = part !== "result";
    view.submit.disabled = part === "submitting";
    view.form.setAttribute("aria-busy", String(part === "submitting"));
    view.submit.textContent = part === "submitting" ? "Finding your Mysfit…" : "Find my Mysfit";
  }

  function showProblem(problem, retry) {
    const [title, text] = (PROBLEM_TEXT[problem.kind] || PROBLEM_TEXT.response)(problem);
    view.problemTitle.textContent = title;
    view.problemText.textContent = text;
    retryAction = retry;
    show("problem");
    view.retry.focus();
  }

  async function loadQuestionnaire() {
    view.loadingText.textContent = "Loading the questions…";
    show("loading");
    try {
      questionnaire = await request("/questionnaire", { headers: { Accept: "application/json" } });
      renderQuestionnaire(questionnaire);
      show("form");
    } catch (problem) {
      if (!(problem instanceof ApiProblem)) throw problem;
      showProblem(problem, loadQuestionnaire);
    }
  }

  function renderQuestionnaire(data) {
    if (data.title) view.title.textContent = data.title;
    if (data.intro) view.intro.textContent = data.intro;
    document.title = `${data.title || view.title.textContent} · Mythical Mysfits`;
    view.questions.replaceChildren(...data.questions.map(renderQuestion));
  }

  function renderQuestion(question, index) {
    const fieldset = document.createElement("fieldset");
    fieldset.className = "question";
    fieldset.dataset.index = String(index);
    const errorId = `q${index}-error`;

    const legend = document.createElement("legend");
    const number = document.createElement("span");
    number.className = "question-number";
    number.textContent = `Question ${index + 1} of ${questionnaire.questions.length}`;
    const text = document.createElement("span");
    text.className = "question-text";
    text.textContent = question.text;
    legend.append(number, text);

    const error = document.createElement("p");
    error.className = "field-error";
    error.id = errorId;
    error.hidden = true;
    error.textContent = "Please choose one answer.";

    const options = document.createElement("div");
    options.className = "options";
    for (const option of question.options) {
      const id = `q${index}-o${option.value}`;
      const label = document.createElement("label");
      label.className = "option";
      label.htmlFor = id;
      const input = document.createElement("input");
      input.type = "radio";
      input.name = `q${index}`;
      input.id = id;
      input.value = String(option.value);
      const span = document.createElement("span");
      span.textContent = option.label;
      label.append(input, span);
      options.append(label);
    }
    fieldset.append(legend, error, options);
    fieldset.addEventListener("change", () => markQuestion(fieldset, true));
    return fieldset;
  }

  function markQuestion(fieldset, answered) {
    const error = fieldset.querySelector(".field-error");
    error.hidden = answered;
    fieldset.classList.toggle("invalid", !answered);
    for (const input of fieldset.querySelectorAll("input")) {
      if (answered) {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      } else {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", error.id);
      }
    }
    if (answered && !view.form.querySelector(".question.invalid")) view.summary.textContent = "";
  }

  function collectAnswers() {
    const fieldsets = [...view.questions.querySelectorAll(".question")];
    const answers = [];
    const missing = [];
    for (const fieldset of fieldsets) {
      const checked = fieldset.querySelector("input:checked");
      markQuestion(fieldset, Boolean(checked));
      if (checked) answers.push(Number(checked.value));
      else missing.push(fieldset);
    }
    return { answers, missing };
  }

  async function submit(event) {
    if (event) event.preventDefault();
    const { answers, missing } = collectAnswers();
    if (missing.length) {
      const count = missing.length === 1 ? "One question still needs" : `${missing.length} questions still need`;
      view.summary.textContent = `${count} an answer.`;
      missing[0].querySelector("input").focus();
      return;
    }
    view.summary.textContent = "";
    show("submitting");
    try {
      const body = await request("/recommendations", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ entry: answers }),
      });
      renderResult(body);
    } catch (problem) {
      if (!(problem instanceof ApiProblem)) throw problem;
      showProblem(problem, () => submit());
    }
  }

  // The API returns {"recommendedMysfit": id, "mysfit": {profile}}; older shapes put the profile at the top.
  function renderResult(body) {
    const mysfit = body.mysfit && typeof body.mysfit === "object" ? body.mysfit : body;
    if (typeof body.recommendedMysfit !== "string" || typeof mysfit.name !== "string") {
      showProblem(new ApiProblem("response"), () => submit());
      return;
    }
    el("mysfit-name").textContent = mysfit.name;
    el("mysfit-species").textContent = mysfit.species || "Unknown";
    const age = el("mysfit-age");
    age.textContent = formatAge(mysfit.age);
    age.title = Number.isFinite(mysfit.age) ? `${new Intl.NumberFormat("en").format(mysfit.age)} years` : "";
    el("mysfit-alignment").textContent = formatAlignment(mysfit.lawchaos, mysfit.goodevil);
    el("mysfit-description").textContent = mysfit.description || "";
    el("mysfit-avatar").replaceChildren(window.MysfitAvatars.draw(mysfit.species, mysfit.name));
    view.result.dataset.mysfitId = body.recommendedMysfit;
    show("result");
    el("result-heading").focus();
  }

  function formatAge(age) {
    if (!Number.isFinite(age)) return "Unknown";
    const unit = age === 1 ? "year" : "years";
    const format = age >= 1e6
      ? new Intl.NumberFormat("en", { notation: "compact", compactDisplay: "long", maximumFractionDigits: 1 })
      : new Intl.NumberFormat("en");
    return `${format.format(age)} ${unit}`;
  }

  function formatAlignment(lawchaos, goodevil) {
    if (!lawchaos && !goodevil) return "Unknown";
    if (lawchaos === "Neutral" && goodevil === "Neutral") return "True Neutral";
    return [lawchaos, goodevil].filter(Boolean).join(" ");
  }

  view.form.addEventListener("submit", submit);
  view.retry.addEventListener("click", () => retryAction && retryAction());
  view.again.addEventListener("click", () => {
    show("form");
    view.questions.querySelector("input:checked, input")?.focus();
  });

  loadConfig().then(loadQuestionnaire);
})();
