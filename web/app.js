// The questionnaire page. The questions and the twelve Mysfits come from content.json, a file generated
// from the package's data and served beside this script, so they arrive with the page's first wave of
// requests; only the recommendation needs the API. The answers live in the URL: a result is ?a=5,7,7,7,7,
// which is what makes a reload, the back button and a shared link show the same result, and the form being
// filled in is ?draft=5,7,,, (replaced on every change), so a reload or Back from the result loses nothing.
(function () {
  "use strict";

  // The page waits as long as the API can take: API Gateway answers within 29 s (the Lambda waits up to 21 s for
  // a serverless endpoint's cold start), so 30 s. After wakingUpMs the visitor is told why it takes a while.
  const DEFAULT_CONFIG = { apiBaseUrl: "", requestTimeoutMs: 30000, wakingUpMs: 4000 };
  const MAX_RETRY_AFTER_S = 10;
  const BASE_TITLE = document.title;
  const el = (id) => document.getElementById(id);
  const view = {
    introSection: el("intro-section"),
    title: el("title"),
    intro: el("intro"),
    status: el("status"),
    loading: el("loading"),
    loadingText: el("loading-text"),
    loadProblem: el("load-problem"),
    loadProblemText: el("load-problem-text"),
    loadRetry: el("load-retry"),
    form: el("questionnaire"),
    notice: el("notice"),
    questions: el("questions"),
    problem: el("problem"),
    problemTitle: el("problem-title"),
    problemText: el("problem-text"),
    retry: el("retry"),
    progress: el("progress"),
    summary: el("form-summary"),
    submit: el("submit"),
    result: el("result"),
    resultHeading: el("result-heading"),
    why: el("why"),
    whyHeading: el("why-heading"),
    whyText: el("why-text"),
    whyAnswers: el("why-answers"),
    whyVotes: el("why-votes"),
    runnerUp: el("runner-up"),
    share: el("share"),
    shareNote: el("share-note"),
    again: el("again"),
    galleryToggle: el("gallery-toggle"),
    gallery: el("gallery"),
    galleryHeading: el("gallery-heading"),
    galleryList: el("gallery-list"),
    startOver: el("start-over"),
    adoptMain: el("adopt-main"),
    adoptRunnerUp: el("adopt-runner-up"),
    adoption: el("adoption"),
    adoptionText: el("adoption-text"),
    adoptRetry: el("adopt-retry"),
  };

  const configReady = fetchJson("config.json")
    .then((loaded) => ({ ...DEFAULT_CONFIG, ...loaded }))
    .catch((error) => {
      console.warn("config.json could not be read; the API is assumed to share this page's origin", error);
      return DEFAULT_CONFIG;
    });
  let config = DEFAULT_CONFIG;
  let content = null;
  let busy = false;
  let lastAnswers = null;
  let shareable = null;
  // The result being shown can be adopted once: its id from the API, and what happened to the visitor's choice.
  const adoption = { recommendationId: null, state: "open", pending: null, retryTimer: null };

  // A failed request, sorted into the cases a visitor needs told apart.
  class Problem extends Error {
    constructor(kind, field) {
      super(kind);
      this.kind = kind; // "offline" | "unreachable" | "timeout" | "trouble" | "rejected"
      this.field = field || "";
    }
  }

  const KEPT = "Your answers are still here.";
  const PROBLEM_TEXT = {
    offline: () => ["You seem to be offline", `${KEPT} Once you're connected again, choose “Try again”.`],
    unreachable: () => ["We can't reach our service",
      `${KEPT} It may be down for a moment; please try again shortly.`],
    timeout: () => ["Our service is taking too long", `It didn't answer in time. ${KEPT} Please try again.`],
    trouble: () => ["Our service is having trouble",
      `It couldn't pick your Mysfit just now. ${KEPT} Please try again in a moment.`],
    rejected: (problem) => {
      const match = /^entry\[(\d+)\]$/.exec(problem.field);
      const which = match ? `your answer to question ${Number(match[1]) + 1}` : "your answers";
      return ["We couldn't use one of your answers", `Please check ${which}, then try again.`];
    },
  };

  // Before any question is on screen there are no answers to keep and no Mysfit being picked.
  const LOAD_PROBLEM_TEXT = {
    offline: "You seem to be offline. Once you're connected again, choose “Try again”.",
    unreachable: "We can't reach our service just now. Please try again shortly.",
    timeout: "The questions took too long to arrive. Please try again.",
    trouble: "The questions didn't arrive just now. Please try again in a moment.",
  };

  function failure(error) {
    if (error instanceof Problem) return error;
    if (!navigator.onLine) return new Problem("offline");
    return new Problem(error && error.name === "AbortError" ? "timeout" : "unreachable");
  }

  async function fetchJson(url, options) {
    const response = await fetch(url, options);
    if (!response.ok) throw new Problem("trouble");
    return response.json();
  }

  function apiUrl(path) {
    return String(config.apiBaseUrl || "").replace(/\/+$/, "") + path;
  }

  // One retry when the API says it is busy (503 with Retry-After: a throttled or scaling endpoint), and one at once
  // after a 504: an idle serverless endpoint's cold start outlasted the function's wait, and the next call finds the
  // container it started (issue 32, item 5; untried on AWS, see docs/aws.md).
  async function postAnswers(answers) {
    const first = await postOnce(answers);
    if (first.status === 504) return readAnswer(await postOnce(answers));
    const header = first.headers.get("Retry-After"); // readable cross-origin: the API exposes it (CORS)
    const wait = header === null ? NaN : Number(header);
    if (first.status !== 503 || !(wait >= 0)) return readAnswer(first);
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, MAX_RETRY_AFTER_S) * 1000));
    return readAnswer(await postOnce(answers));
  }

  async function postOnce(answers) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.requestTimeoutMs);
    let response;
    try {
      response = await fetch(apiUrl("/recommendations"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ entry: answers }),
        signal: controller.signal,
      });
    } catch (error) {
      throw failure(error);
    } finally {
      clearTimeout(timer);
    }
    return response;
  }

  async function readAnswer(response) {
    const body = await response.json().catch(() => null);
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      throw new Problem("rejected", body && typeof body.field === "string" ? body.field : "");
    }
    if (!response.ok || !body || typeof body.recommendedMysfit !== "string") throw new Problem("trouble");
    return body;
  }

  function say(text) {
    view.status.textContent = text;
  }

  // ---- the views --------------------------------------------------------------------------------

  function showForm() {
    document.title = BASE_TITLE;
    view.loading.hidden = true;
    view.loadProblem.hidden = true;
    view.introSection.hidden = false;
    view.form.hidden = false;
    view.result.hidden = true;
  }

  function showResultView() {
    view.introSection.hidden = true;
    view.form.hidden = true;
    view.result.hidden = false;
  }

  function showProblem(problem) {
    const [title, text] = PROBLEM_TEXT[problem.kind](problem);
    view.problemTitle.textContent = title;
    view.problemText.textContent = text;
    view.problem.hidden = false;
    say("");
    view.retry.focus();
  }

  function setBusy(on) {
    busy = on;
    for (const fieldset of view.questions.querySelectorAll("fieldset")) fieldset.disabled = on;
    view.form.setAttribute("aria-busy", String(on));
    view.submit.setAttribute("aria-disabled", String(on));
    view.submit.replaceChildren(...(on ? [spinner(), "Finding your Mysfit…"] : ["Find my Mysfit"]));
    // A disabled radio drops focus to <body>; the button stays focusable (aria-disabled), so it takes it.
    if (on && (view.questions.contains(document.activeElement) || document.activeElement === document.body)) {
      view.submit.focus();
    }
  }

  function spinner() {
    const span = document.createElement("span");
    span.className = "button-spinner";
    span.setAttribute("aria-hidden", "true");
    return span;
  }

  // ---- the questions ----------------------------------------------------------------------------

  async function loadContent() {
    view.loadProblem.hidden = true;
    view.loading.hidden = false;
    view.loadingText.textContent = "Loading the questions…";
    try {
      content = await fetchJson("content.json");
    } catch (error) {
      const problem = failure(error);
      view.loading.hidden = true;
      view.loadProblemText.textContent = LOAD_PROBLEM_TEXT[problem.kind] || LOAD_PROBLEM_TEXT.trouble;
      view.loadProblem.hidden = false;
      view.loadRetry.focus();
      return;
    }
    renderQuestionnaire(content.questionnaire);
    renderGallery();
    config = await configReady;
    applyUrl(); // shows the form, or (for a link to a result) goes straight to asking, so the form never flashes
  }

  function renderQuestionnaire(questionnaire) {
    // The committed page carries the same texts (a test keeps them equal), so this changes nothing on screen.
    if (view.title.textContent !== questionnaire.title) view.title.textContent = questionnaire.title;
    if (view.intro.textContent !== questionnaire.intro) view.intro.textContent = questionnaire.intro;
    view.questions.replaceChildren(...questionnaire.questions.map(renderQuestion));
    updateProgress();
  }

  function renderQuestion(question, index) {
    const total = content.questionnaire.questions.length;
    const fieldset = document.createElement("fieldset");
    fieldset.className = "question";
    const errorId = `q${index}-error`;

    const legend = document.createElement("legend");
    const number = document.createElement("span");
    number.className = "question-number";
    number.textContent = `Question ${index + 1} of ${total}`;
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
    fieldset.addEventListener("change", () => {
      markQuestion(fieldset, true);
      updateProgress();
      hideNotice();
      history.replaceState(null, "", urlFor(currentAnswers(), "draft"));
    });
    return fieldset;
  }

  function fieldsets() {
    return [...view.questions.querySelectorAll(".question")];
  }

  function updateProgress() {
    const all = fieldsets();
    const answered = all.filter((f) => f.querySelector("input:checked")).length;
    view.progress.textContent = `${answered} of ${all.length} answered`;
  }

  // One entry per question: its value, or null while unanswered.
  function currentAnswers() {
    return fieldsets().map((fieldset) => {
      const checked = fieldset.querySelector("input:checked");
      return checked ? Number(checked.value) : null;
    });
  }

  function hideNotice() {
    view.notice.hidden = true;
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

  function setAnswers(answers) {
    fieldsets().forEach((fieldset, index) => {
      for (const input of fieldset.querySelectorAll("input")) input.checked = answers && Number(input.value) === answers[index];
      markQuestion(fieldset, true);
    });
    view.summary.textContent = "";
    updateProgress();
  }

  // ---- the URL ----------------------------------------------------------------------------------

  // ?a= must hold all five answers (a result); ?draft= may leave any of them empty (a form being filled in).
  function answersFromUrl() {
    const params = new URLSearchParams(location.search);
    const kind = params.has("a") ? "a" : params.has("draft") ? "draft" : null;
    if (kind === null) return { answers: null, complete: false, bad: false };
    const questions = content.questionnaire.questions;
    const parts = params.get(kind).split(",");
    const answers = parts.map((part) => {
      if (kind === "draft" && part.trim() === "") return null;
      return /^\d+$/.test(part.trim()) ? Number(part) : NaN;
    });
    const fits = answers.length === questions.length && answers.every((value, i) =>
      value === null || questions[i].options.some((option) => option.value === value));
    if (!fits) return { answers: null, complete: false, bad: true };
    return { answers, complete: kind === "a", bad: false };
  }

  function urlFor(answers, kind = "a") {
    const url = new URL(location.href);
    const given = answers && answers.some((value) => value !== null);
    url.search = given ? `?${kind}=${answers.map((value) => (value === null ? "" : value)).join(",")}` : "";
    url.hash = "";
    return url;
  }

  function applyUrl() {
    const { answers, complete, bad } = answersFromUrl();
    view.notice.hidden = !bad;
    if (bad) {
      view.notice.textContent = "The link you followed had answers we couldn't read, so the questions start empty.";
      say(view.notice.textContent);
      history.replaceState(null, "", urlFor(null));
    }
    setAnswers(answers);
    view.problem.hidden = true;
    if (complete) {
      recommend(answers, { quietly: true });
    } else {
      showForm();
      window.scrollTo(0, 0);
    }
  }

  // ---- asking for a Mysfit ----------------------------------------------------------------------

  function collectAnswers() {
    const answers = [];
    const missing = [];
    for (const fieldset of fieldsets()) {
      const checked = fieldset.querySelector("input:checked");
      markQuestion(fieldset, Boolean(checked));
      if (checked) answers.push(Number(checked.value));
      else missing.push(fieldset);
    }
    return { answers, missing };
  }

  function submit(event) {
    if (event) event.preventDefault();
    if (busy) return;
    const { answers, missing } = collectAnswers();
    if (missing.length) {
      const count = missing.length === 1 ? "One question still needs" : `${missing.length} questions still need`;
      view.summary.textContent = `${count} an answer.`;
      missing[0].querySelector("input").focus();
      return;
    }
    view.summary.textContent = "";
    recommend(answers);
  }

  // ``quietly``: a link (or Back/Forward) to a result asks without showing the filled form first; the loading line
  // stays up until the result, or the form with the problem, replaces it.
  async function recommend(answers, { quietly = false } = {}) {
    if (quietly) {
      view.introSection.hidden = true;
      view.form.hidden = true;
      view.result.hidden = true;
      view.loading.hidden = false;
      view.loadingText.textContent = "Finding your Mysfit…";
    } else {
      showForm();
    }
    view.problem.hidden = true;
    setBusy(true);
    say("Finding your Mysfit…");
    const wakingUp = setTimeout(
      () => say("Waking up our matchmaker after a quiet spell; this can take up to half a minute…"),
      config.wakingUpMs,
    );
    let body;
    try {
      body = await postAnswers(answers);
    } catch (error) {
      setBusy(false);
      showForm();
      showProblem(failure(error));
      return;
    } finally {
      clearTimeout(wakingUp);
    }
    setBusy(false);
    const url = urlFor(answers);
    if (url.href !== location.href) history.pushState(null, "", url);
    lastAnswers = answers;
    renderResult(body, url);
  }

  function mysfitById(id) {
    return content.mysfits.find((m) => m.id === id) || null;
  }

  function renderResult(body, url) {
    const mysfit = (body.mysfit && typeof body.mysfit.name === "string" ? body.mysfit : null) ||
      mysfitById(body.recommendedMysfit);
    if (!mysfit) {
      showProblem(new Problem("trouble"));
      return;
    }
    const reasons = renderWhy(body.why, mysfit, lastAnswers);
    view.resultHeading.textContent = reasons.closeCall
      ? `A close call between ${mysfit.name} and ${reasons.closeCall.name}`
      : `You're ${mysfit.name}!`;
    document.title = `${view.resultHeading.textContent} · Mythical Mysfits`;
    el("mysfit-species").textContent = mysfit.species || "Unknown";
    const age = el("mysfit-age");
    age.textContent = formatAge(mysfit.age);
    el("mysfit-alignment").textContent = formatAlignment(mysfit.lawchaos, mysfit.goodevil);
    el("mysfit-description").textContent = mysfit.description || "";
    el("mysfit-avatar").replaceChildren(window.MysfitAvatars.draw(mysfit.species, mysfit.name));
    view.result.dataset.mysfitId = body.recommendedMysfit;
    offerAdoption(body.recommendationId, mysfit);
    shareable = { url: url.href, title: view.resultHeading.textContent, name: mysfit.name };
    view.shareNote.textContent = "";
    markGallery(body.recommendedMysfit);
    closeGallery();
    hideNotice();
    showResultView();
    view.resultHeading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    // The heading is read when it takes focus; the live region adds the reasons rather than repeating the name.
    say(reasons.text);
  }

  // A lead of at most this many votes (one in ten of the neighbours, at least one) is called a close call.
  const closeCallVotes = (neighbours) => Math.max(1, Math.round(neighbours / 10));

  // The reasons, from the visitor's side first: which of their answers point to this Mysfit (the API says which,
  // from the catalog), then how the earlier visitors most like them chose. Returns what to announce and, when the
  // lead is small, the Mysfit that came close.
  function renderWhy(why, mysfit, answers) {
    const votes = why && Array.isArray(why.votes) ? why.votes : [];
    const named = votes.map((v) => ({ count: v.count, mysfit: mysfitById(v.mysfitId) }));
    const usable = Number.isInteger(why && why.neighbours) && named.length > 0 &&
      named.every((v) => v.mysfit && Number.isInteger(v.count) && v.count > 0) && named[0].mysfit.id === mysfit.id;
    view.why.hidden = !usable;
    view.runnerUp.hidden = true;
    view.whyAnswers.replaceChildren();
    if (!usable) return { text: "", closeCall: null };
    const n = why.neighbours;
    const [top, ...rest] = named;
    const closeCall = rest.length && top.count - rest[0].count <= closeCallVotes(n) ? rest[0].mysfit : null;

    const questions = content.questionnaire.questions;
    const pointing = Array.isArray(why.answersPointing) && Array.isArray(answers)
      ? why.answersPointing.filter((i) => Number.isInteger(i) && i >= 0 && i < questions.length && answers[i] != null)
      : null;
    let yours = "";
    if (pointing && pointing.length) {
      yours = pointing.length === questions.length
        ? `Every one of your answers is what ${mysfit.name}'s fans choose, or one step from it:`
        : `${pointing.length === 1 ? "One of your answers is" : `${pointing.length} of your answers are`} what ` +
          `${mysfit.name}'s fans choose, or one step from it:`;
      view.whyAnswers.replaceChildren(...pointing.map((i) => {
        const item = document.createElement("li");
        const option = questions[i].options.find((o) => o.value === answers[i]);
        const asked = document.createElement("span");
        asked.className = "why-question";
        asked.textContent = questions[i].text;
        item.append(asked, ` ${option ? option.label : answers[i]}`);
        return item;
      }));
    } else if (pointing) {
      yours = `None of your answers on its own is what ${mysfit.name}'s fans choose; it is the mix of them that ` +
        `matched.`;
    }

    let crowd;
    if (n === 1) crowd = `The earlier visitor whose answers were closest to yours chose ${top.mysfit.name}`;
    else if (top.count === n) crowd = `All ${n} earlier visitors whose answers were closest to yours chose ${top.mysfit.name}`;
    else crowd = `Of the ${n} earlier visitors whose answers were closest to yours, ${top.count} chose ${top.mysfit.name}`;
    const shown = rest.slice(0, 2).map((v) => `${v.count} chose ${v.mysfit.name}`);
    const others = rest.slice(2).reduce((sum, v) => sum + v.count, 0);
    if (others) shown.push(`${others} chose other Mysfits`);
    if (shown.length) crowd += `; ${shown.slice(0, -1).join(", ")}${shown.length > 1 ? " and " : ""}${shown.at(-1)}`;
    crowd += ".";
    if (closeCall) crowd += ` That is a close call: ${closeCall.name} suits you almost as well.`;

    view.whyHeading.textContent = "Why this Mysfit?";
    view.whyText.textContent = yours;
    view.whyText.hidden = !yours;
    view.whyVotes.textContent = crowd;
    if (rest.length) {
      const second = rest[0].mysfit;
      el("runner-up-name").textContent = second.name;
      el("runner-up-species").textContent = `the ${second.species}`;
      el("runner-up-avatar").replaceChildren(window.MysfitAvatars.draw(second.species, second.name, true));
      view.adoptRunnerUp.dataset.mysfitId = second.id;
      view.adoptRunnerUp.textContent = `Adopt ${second.name} instead`;
      view.runnerUp.hidden = false;
    }
    return { text: [yours.replace(/:$/, "."), crowd].filter(Boolean).join(" "), closeCall };
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

  // ---- all twelve -------------------------------------------------------------------------------

  function renderGallery() {
    view.galleryList.replaceChildren(...content.mysfits.map((mysfit) => {
      const item = document.createElement("li");
      item.className = "gallery-item";
      item.dataset.mysfitId = mysfit.id;
      const name = document.createElement("span");
      name.className = "gallery-name";
      name.textContent = mysfit.name;
      const species = document.createElement("span");
      species.className = "gallery-species";
      species.textContent = mysfit.species;
      const badge = document.createElement("span");
      badge.className = "gallery-badge";
      badge.textContent = "Your match";
      badge.hidden = true;
      const adopt = document.createElement("button");
      adopt.type = "button";
      adopt.className = "button secondary adopt gallery-adopt";
      adopt.dataset.mysfitId = mysfit.id;
      adopt.textContent = `Adopt ${mysfit.name}`;
      adopt.hidden = true;
      const about = document.createElement("details");
      about.className = "gallery-about";
      const summary = document.createElement("summary");
      summary.textContent = `About ${mysfit.name}`;
      const description = document.createElement("p");
      description.textContent = mysfit.description || "";
      about.append(summary, description);
      item.append(window.MysfitAvatars.draw(mysfit.species, mysfit.name, true), name, species, badge, about, adopt);
      return item;
    }));
  }

  function markGallery(id) {
    for (const item of view.galleryList.children) {
      const match = item.dataset.mysfitId === id;
      item.classList.toggle("match", match);
      item.querySelector(".gallery-badge").hidden = !match;
    }
  }

  function closeGallery() {
    setGallery(false);
  }

  function setGallery(open) {
    view.gallery.hidden = !open;
    view.galleryToggle.setAttribute("aria-expanded", String(open));
    view.galleryToggle.textContent = open ? "Hide the twelve" : "Meet all twelve";
  }


  // ---- adopting a Mysfit --------------------------------------------------------------------------------
  // POST /choices records which Mysfit the visitor adopted after this recommendation: the data the model
  // learns from next. A failed post keeps the choice and offers a retry, after the Retry-After the API asks for.

  function adoptButtons() {
    return [view.adoptMain, view.adoptRunnerUp, ...view.galleryList.querySelectorAll(".gallery-adopt")];
  }

  function offerAdoption(recommendationId, mysfit) {
    clearTimeout(adoption.retryTimer);
    adoption.recommendationId = typeof recommendationId === "string" ? recommendationId : null;
    adoption.state = "open";
    adoption.pending = null;
    view.adoptMain.dataset.mysfitId = mysfit.id;
    view.adoptMain.textContent = `Adopt ${mysfit.name}`;
    view.adoptRetry.hidden = true;
    const offered = adoption.recommendationId !== null;
    for (const button of adoptButtons()) {
      button.hidden = !offered;
      button.disabled = false;
      button.removeAttribute("aria-pressed");
    }
    if (offered) {
      view.adoption.hidden = true;
      view.adoptionText.textContent = "";
    } else {
      showAdoption("Adopting is not available for this result: we couldn't keep it just now. " +
        "Choose “Change my answers” and ask again to adopt.", false);
    }
  }

  function showAdoption(text, focus) {
    view.adoptionText.textContent = text;
    view.adoption.hidden = false;
    say(text);
    if (focus) view.adoption.focus();
  }

  function closeAdoption(adoptedId) {
    for (const button of adoptButtons()) {
      button.disabled = true;
      if (adoptedId && button.dataset.mysfitId === adoptedId) button.setAttribute("aria-pressed", "true");
    }
  }

  async function adopt(mysfitId) {
    if (!adoption.recommendationId || adoption.state !== "open") return;
    const mysfit = mysfitById(mysfitId);
    if (!mysfit) return;
    clearTimeout(adoption.retryTimer);
    adoption.state = "sending";
    adoption.pending = mysfitId;
    view.adoptRetry.hidden = true;
    for (const button of adoptButtons()) button.disabled = true;
    say(`Adopting ${mysfit.name}…`);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.requestTimeoutMs);
    let response = null;
    let body = null;
    try {
      response = await fetch(apiUrl("/choices"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ recommendationId: adoption.recommendationId, mysfitId }),
        signal: controller.signal,
      });
      body = await response.json().catch(() => null);
    } catch (error) {
      response = null;
    } finally {
      clearTimeout(timer);
    }
    if (response && response.status === 201 && body && typeof body.choiceId === "string") {
      adoption.state = "adopted";
      closeAdoption(mysfitId);
      showAdoption(`You adopted ${mysfit.name}! Thank you: your choice helps us match the next visitors better.`,
        true);
    } else if (response && response.status === 409) {
      adoption.state = "adopted";
      closeAdoption(null);
      showAdoption("A Mysfit was already adopted for this result, so nothing changed. Each result can be adopted once.",
        true);
    } else if (response && response.status === 404) {
      adoption.state = "expired";
      closeAdoption(null);
      showAdoption("This result is more than a day old and can no longer be adopted. " +
        "Choose “Change my answers” and ask again to adopt.", true);
    } else if (response && response.status >= 400 && response.status < 500 && response.status !== 429) {
      adoption.state = "refused";
      closeAdoption(null);
      showAdoption(`We couldn't record the adoption of ${mysfit.name}. Please reload the page and try again.`, true);
    } else {
      adoptionFailed(mysfit, response);
    }
  }

  function adoptionFailed(mysfit, response) {
    adoption.state = "open";
    for (const button of adoptButtons()) button.disabled = false;
    const asked = response ? Number.parseInt(response.headers.get("Retry-After") || "", 10) : NaN;
    let wait = Number.isFinite(asked) && asked > 0 ? Math.min(asked, 60) : 0;
    const why = !navigator.onLine ? "You seem to be offline." : "Our service couldn't record it just now.";
    const kept = `${why} We kept your choice of ${mysfit.name}.`;
    view.adoptRetry.hidden = false;
    const tick = () => {
      view.adoptRetry.disabled = wait > 0;
      view.adoptRetry.textContent = wait > 0 ? `Try again in ${wait} s` : `Try adopting ${mysfit.name} again`;
      if (wait > 0) {
        wait -= 1;
        adoption.retryTimer = setTimeout(tick, 1000);
      }
    };
    showAdoption(wait > 0 ? `${kept} The service asked us to wait ${wait} seconds before trying again.` : kept, true);
    tick();
  }

  // ---- wiring -----------------------------------------------------------------------------------

  // The skip link lands on the heading of whatever is on screen (the questions or the result), not on all of <main>.
  el("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    const target = !view.result.hidden ? view.resultHeading : view.title;
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "start" });
  });
  // Share the result's link: the system's share sheet where there is one, else the clipboard, with a confirmation.
  view.share.addEventListener("click", async () => {
    if (!shareable) return;
    const text = `I took the Mythical Mysfits quiz: ${shareable.title}`;
    if (navigator.share) {
      try {
        await navigator.share({ title: shareable.title, text, url: shareable.url });
        return;
      } catch (error) {
        if (error && error.name === "AbortError") return; // the visitor closed the share sheet
      }
    }
    try {
      await navigator.clipboard.writeText(shareable.url);
      view.shareNote.textContent = "Link copied. Anyone who opens it sees this result.";
    } catch (error) {
      view.shareNote.textContent = `Copy this link to share your result: ${shareable.url}`;
    }
    say(view.shareNote.textContent);
  });
  view.form.addEventListener("submit", submit);
  view.retry.addEventListener("click", () => submit());
  view.loadRetry.addEventListener("click", loadContent);
  view.again.addEventListener("click", () => {
    showForm();
    setAnswers(lastAnswers);
    history.pushState(null, "", urlFor(lastAnswers, "draft"));
    window.scrollTo(0, 0);
    const first = fieldsets()[0];
    (first.querySelector("input:checked") || first.querySelector("input")).focus();
  });
  view.startOver.addEventListener("click", () => {
    lastAnswers = null;
    setAnswers(null);
    view.notice.hidden = true;
    view.problem.hidden = true;
    history.pushState(null, "", urlFor(null));
    showForm();
    say("Starting over: all five questions are empty again.");
    view.title.focus();
  });
  view.galleryToggle.addEventListener("click", () => {
    const open = view.gallery.hidden;
    setGallery(open);
    if (open) view.galleryHeading.focus();
  });
  view.result.addEventListener("click", (event) => {
    const button = event.target.closest("button.adopt");
    if (button && !button.disabled) adopt(button.dataset.mysfitId);
  });
  view.adoptRetry.addEventListener("click", () => adoption.pending && adopt(adoption.pending));
  // The page puts the visitor at the top of each view itself; the browser's remembered offset belongs to another view.
  history.scrollRestoration = "manual";
  window.addEventListener("popstate", () => content && applyUrl());

  loadContent();
})();
