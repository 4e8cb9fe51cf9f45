// The questionnaire page. The questions and the twelve Mysfits come from content.json, a file generated
// from the package's data and served beside this script, so they arrive with the page's first wave of
// requests; only the recommendation needs the API. The answers live in the URL: a result is m/coco.html?a=5,7,7,7,7
// (the shown Mysfit's own copy of this page, whose preview tags name it for crawlers, and the answers), and the form
// being filled in is ?draft=5,7,,, (replaced on every change), so a reload or Back from the result loses nothing.
//
// One journey (one set of answers in one browser) is one recommendation and at most one adoption: the API's answer
// and what was adopted are kept in localStorage, keyed by the answers, and reused by a reload, Back/Forward, a reopened
// tab or the same answers sent again. The data loop learns from every stored recommendation, so asking again for the
// same answers would teach it about visits that never happened. A result link with no journey behind it in this
// browser is someone else's: it is shown as theirs, with an invitation to take the quiz, and cannot be adopted.
(function () {
  "use strict";

  // The page waits as long as the API can take: API Gateway answers within 29 s (the Lambda waits up to 21 s for
  // a serverless endpoint's cold start), so 30 s. After wakingUpMs the visitor is told why it takes a while.
  const DEFAULT_CONFIG = { apiBaseUrl: "", requestTimeoutMs: 30000, wakingUpMs: 4000 };
  const MAX_RETRY_AFTER_S = 10;
  // The API accepts an adoption for a day after its recommendation; a journey is kept a little less than that, so a
  // kept result is never offered for adoption once the API would refuse it.
  const JOURNEY_TTL_MS = 23 * 60 * 60 * 1000;
  const JOURNEYS_KEY = "mysfits.journeys.v1";
  const BASE_TITLE = document.title;
  const WAKING_UP = "Waking up our matchmaker after a quiet spell; this can take up to half a minute.";
  const el = (id) => document.getElementById(id);
  const view = {
    introSection: el("intro-section"),
    title: el("title"),
    intro: el("intro"),
    status: el("status"),
    loading: el("loading"),
    loadingText: el("loading-text"),
    loadingWaiting: el("loading-waiting"),
    loadingStop: el("loading-stop"),
    loadProblem: el("load-problem"),
    loadProblemText: el("load-problem-text"),
    loadRetry: el("load-retry"),
    form: el("questionnaire"),
    notice: el("notice"),
    questions: el("questions"),
    problem: el("problem"),
    problemTitle: el("problem-title"),
    problemText: el("problem-text"),
    progress: el("progress"),
    summary: el("form-summary"),
    waiting: el("waiting"),
    waitingText: el("waiting-text"),
    stopWaiting: el("stop-waiting"),
    submit: el("submit"),
    prev: el("prev"),
    next: el("next"),
    steps: el("steps"),
    result: el("result"),
    resultHeading: el("result-heading"),
    sharedEyebrow: el("shared-eyebrow"),
    sharedText: el("shared-text"),
    card: el("card"),
    explored: el("explored"),
    exploredPick: el("explored-pick"),
    exploredWhy: el("explored-why"),
    seePick: el("see-pick"),
    takeQuiz: el("take-quiz"),
    why: el("why"),
    whyHeading: el("why-heading"),
    whyText: el("why-text"),
    whyAnswers: el("why-answers"),
    whyVotes: el("why-votes"),
    runnerUp: el("runner-up"),
    runnerUpLabel: el("runner-up-label"),
    shareRow: el("share-row"),
    share: el("share"),
    shareNote: el("share-note"),
    again: el("again"),
    galleryToggle: el("gallery-toggle"),
    introGallery: el("intro-gallery"),
    dialog: el("mysfit-dialog"),
    gallery: el("gallery"),
    galleryHeading: el("gallery-heading"),
    galleryList: el("gallery-list"),
    startOver: el("start-over"),
    adoptMain: el("adopt-main"),
    adoptRunnerUp: el("adopt-runner-up"),
    adoptedNote: el("adopted-note"),
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
  // The request being waited for, so that "Stop waiting" can end it.
  let waiting = null;
  // The result being shown can be adopted once: its id from the API, and what happened to the visitor's choice.
  const adoption = {
    answers: null, recommendationId: null, state: "open", pending: null, origin: null, retryTimer: null,
  };

  // ---- the journeys -----------------------------------------------------------------------------
  // { at, body (the API's answer), mine (asked from this browser's own form), adopted (a Mysfit id; "" when the API
  // said one was already adopted; null before) }. Without localStorage (a locked-down browser) they last as long as
  // the page does.
  const journeys = (() => {
    let memory = {};
    const usable = (journey) => Boolean(journey) && typeof journey.at === "number" &&
      Date.now() - journey.at < JOURNEY_TTL_MS && Boolean(journey.body) &&
      typeof journey.body.recommendedMysfit === "string" && typeof journey.body.recommendationId === "string";
    function load() {
      try {
        const stored = JSON.parse(localStorage.getItem(JOURNEYS_KEY) || "{}");
        return stored && typeof stored === "object" ? stored : {};
      } catch (error) {
        return { ...memory };
      }
    }
    function save(all) {
      memory = all;
      try {
        localStorage.setItem(JOURNEYS_KEY, JSON.stringify(all));
      } catch (error) {
        // Storage refused (private mode, full): the journey lasts as long as this page.
      }
    }
    return {
      get(answers) {
        const journey = load()[answers.join(",")];
        return usable(journey) ? journey : null;
      },
      put(answers, journey) {
        const all = load();
        for (const [key, kept] of Object.entries(all)) if (!usable(kept)) delete all[key];
        all[answers.join(",")] = journey;
        save(all);
        return journey;
      },
      update(answers, changes) {
        const journey = this.get(answers);
        return journey ? this.put(answers, { ...journey, ...changes }) : null;
      },
      forget(answers) {
        const all = load();
        delete all[answers.join(",")];
        save(all);
      },
    };
  })();

  // A failed request, sorted into the cases a visitor needs told apart.
  class Problem extends Error {
    constructor(kind, field) {
      super(kind);
      this.kind = kind; // "offline" | "unreachable" | "timeout" | "trouble" | "rejected" | "stopped"
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
  // container it started (issue 32, item 5; untried on AWS, see docs/aws.md). ``stop`` (an AbortSignal) ends the
  // wait whenever the visitor chooses to.
  async function postAnswers(answers, stop) {
    const first = await postOnce(answers, stop);
    if (first.status === 504) return readAnswer(await postOnce(answers, stop));
    const header = first.headers.get("Retry-After"); // readable cross-origin: the API exposes it (CORS)
    const wait = header === null ? NaN : Number(header);
    if (first.status !== 503 || !(wait >= 0)) return readAnswer(first);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, Math.min(wait, MAX_RETRY_AFTER_S) * 1000);
      stop.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Problem("stopped"));
      }, { once: true });
    });
    return readAnswer(await postOnce(answers, stop));
  }

  async function postOnce(answers, stop) {
    if (stop.aborted) throw new Problem("stopped");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.requestTimeoutMs);
    const onStop = () => controller.abort();
    stop.addEventListener("abort", onStop, { once: true });
    let response;
    try {
      response = await fetch(apiUrl("/recommendations"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ entry: answers }),
        signal: controller.signal,
      });
    } catch (error) {
      throw stop.aborted ? new Problem("stopped") : failure(error);
    } finally {
      clearTimeout(timer);
      stop.removeEventListener("abort", onStop);
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
    view.loading.hidden = true;
    view.loadProblem.hidden = true;
    view.introSection.hidden = true;
    view.form.hidden = true;
    view.result.hidden = false;
  }

  // The form's own button is the way to ask again, labelled for what it does now; the problem box has no second one.
  function submitLabel() {
    return view.problem.hidden ? "Find my Mysfit" : "Try again";
  }

  function showProblem(problem) {
    const [title, text] = PROBLEM_TEXT[problem.kind](problem);
    view.problemTitle.textContent = title;
    view.problemText.textContent = text;
    view.problem.hidden = false;
    view.submit.textContent = submitLabel();
    say("");
    view.submit.focus();
  }

  function hideProblem() {
    view.problem.hidden = true;
    if (!busy) view.submit.textContent = submitLabel();
  }

  function setBusy(on) {
    busy = on;
    for (const fieldset of view.questions.querySelectorAll("fieldset")) fieldset.disabled = on;
    view.form.setAttribute("aria-busy", String(on));
    view.submit.setAttribute("aria-disabled", String(on));
    view.submit.replaceChildren(...(on ? [spinner(), "Finding your Mysfit…"] : [submitLabel()]));
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

  // After a few seconds the wait is explained on screen, with a way out: beside the form's button, or under the
  // loading line when a link is being opened.
  function showWaiting(fromLink) {
    say(WAKING_UP);
    if (fromLink) {
      view.loadingWaiting.textContent = WAKING_UP;
      view.loadingWaiting.hidden = false;
      view.loadingStop.hidden = false;
    } else {
      view.waitingText.textContent = WAKING_UP;
      view.waiting.hidden = false;
    }
  }

  function hideWaiting() {
    view.waiting.hidden = true;
    view.loadingWaiting.hidden = true;
    view.loadingStop.hidden = true;
  }

  function stopWaiting() {
    if (waiting) waiting.abort();
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
    applyUrl(); // shows the form, or (for a link to a result) the result, so the form never flashes
  }

  function renderQuestionnaire(questionnaire) {
    // The committed page carries the same texts (a test keeps them equal), so this changes nothing on screen.
    if (view.title.textContent !== questionnaire.title) view.title.textContent = questionnaire.title;
    if (view.intro.textContent !== questionnaire.intro) view.intro.textContent = questionnaire.intro;
    view.questions.replaceChildren(...questionnaire.questions.map(renderQuestion));
    view.steps.replaceChildren(...questionnaire.questions.map((question, index) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.tabIndex = -1; // a shortcut for pointers; the keyboard has Back and Next
      button.className = "step";
      button.id = `step-${index}`;
      button.textContent = String(index + 1);
      button.addEventListener("click", () => showQuestion(index, { focus: true }));
      item.append(button);
      return item;
    }));
    showQuestion(0);
    updateProgress();
  }

  // ---- one question at a time -------------------------------------------------------------------
  // Each question has the screen to itself: the five steps above it, its scale, then Back and Next (or "Find my
  // Mysfit" on the last one, or once all five are answered). A choice made with a pointer moves on by itself after a
  // moment, so the visitor sees it taken; arrow keys only choose (they move through the scale), and Enter moves on.

  const ADVANCE_MS = 350;
  let current = 0;
  let byPointer = false; // whether the visitor's last touch of the questions was a pointer's, not a key's
  let advanceTimer = null;

  function showQuestion(index, { focus = false } = {}) {
    clearTimeout(advanceTimer);
    const all = fieldsets();
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((fieldset, i) => {
      fieldset.hidden = i !== current;
    });
    // Past the first question the introduction has been read: only the title stays, so the scale fits the screen.
    view.introSection.classList.toggle("answering", current > 0);
    updateNavigation();
    if (focus) {
      const fieldset = all[current];
      (fieldset.querySelector("input:checked") || fieldset.querySelector("input")).focus({ preventScroll: true });
      // The question's top, not the radio, is what must be in view.
      const top = view.form.getBoundingClientRect().top;
      if (top < 0) view.form.scrollIntoView({ block: "start" });
    }
  }

  function updateNavigation() {
    const all = fieldsets();
    const last = current === all.length - 1;
    const complete = all.every((f) => f.querySelector("input:checked"));
    view.prev.hidden = current === 0;
    view.next.hidden = last;
    view.submit.hidden = !(last || complete);
    view.steps.querySelectorAll(".step").forEach((step, i) => {
      const answered = Boolean(all[i] && all[i].querySelector("input:checked"));
      step.classList.toggle("answered", answered);
      step.classList.toggle("current", i === current);
      step.classList.toggle("invalid", Boolean(all[i] && all[i].classList.contains("invalid")));
    });
  }

  function moveBy(step) {
    showQuestion(current + step, { focus: true });
  }

  function advanceFrom(index) {
    clearTimeout(advanceTimer);
    advanceTimer = setTimeout(() => {
      if (current !== index || busy || view.form.hidden) return;
      if (index < fieldsets().length - 1) moveBy(1);
      else view.submit.focus();
    }, ADVANCE_MS);
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
    const ends = ["One end of the scale", "The other end"].map((words) => {
      const end = document.createElement("span");
      end.className = "scale-end";
      end.setAttribute("aria-hidden", "true"); // the options' own words say where each sits
      end.textContent = words;
      return end;
    });
    options.prepend(ends[0]);
    options.append(ends[1]);
    fieldset.append(legend, error, options);
    fieldset.addEventListener("change", () => {
      markQuestion(fieldset, true);
      updateProgress();
      hideNotice();
      history.replaceState(null, "", urlFor(currentAnswers(), "draft"));
      if (byPointer) advanceFrom(index);
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
    updateNavigation();
  }

  // One entry per question: its value, or null while unanswered.
  function currentAnswers() {
    return fieldsets().map((fieldset) => {
      const checked = fieldset.querySelector("input:checked");
      return checked ? Number(checked.value) : null;
    });
  }

  // The live region must not keep saying a notice that is gone.
  function hideNotice() {
    if (!view.notice.hidden && view.status.textContent === view.notice.textContent) say("");
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
    // The first question still open, or the first one when every answer is given (the form being changed).
    const open = fieldsets().findIndex((f) => !f.querySelector("input:checked"));
    showQuestion(open === -1 ? 0 : open);
  }

  // ---- the URL ----------------------------------------------------------------------------------

  // The Mysfit's name as the URL carries it: "twilight-glitter" (src/mysfits/page_previews.py makes the same).
  const slug = (mysfit) => mysfit.name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  // The site's root, whether this is index.html or a Mysfit's own copy of it, m/<slug>.html (whose <base> is "../").
  // Taken once: after history.pushState the document's URL, and so a relative URL's meaning, changes.
  const ROOT = new URL(".", document.baseURI);
  const MYSFIT_PAGE = /\/m\/([a-z0-9-]+)\.html$/;

  // ?a= must hold all five answers (a result); ?draft= may leave any of them empty (a form being filled in). A result
  // lives at its Mysfit's own page, m/<slug>.html?a=..., whose preview tags name that Mysfit for crawlers; at the
  // root (a link from before results had their pages), or with an unknown name, the API is asked instead.
  function answersFromUrl() {
    const params = new URLSearchParams(location.search);
    const kind = params.has("a") ? "a" : params.has("draft") ? "draft" : null;
    if (kind === null) return { answers: null, complete: false, bad: false, shown: null };
    const questions = content.questionnaire.questions;
    const parts = params.get(kind).split(",");
    const answers = parts.map((part) => {
      if (kind === "draft" && part.trim() === "") return null;
      return /^\d+$/.test(part.trim()) ? Number(part) : NaN;
    });
    const fits = answers.length === questions.length && answers.every((value, i) =>
      value === null || questions[i].options.some((option) => option.value === value));
    if (!fits) return { answers: null, complete: false, bad: true, shown: null };
    const named = kind === "a" ? MYSFIT_PAGE.exec(location.pathname) : null;
    const shown = named ? content.mysfits.find((mysfit) => slug(mysfit) === named[1]) || null : null;
    return { answers, complete: kind === "a", bad: false, shown };
  }

  function urlFor(answers, kind = "a", shown = null) {
    const given = answers && answers.some((value) => value !== null);
    const url = new URL(given && kind === "a" && shown ? `m/${slug(shown)}.html` : "", ROOT);
    url.search = given ? `?${kind}=${answers.map((value) => (value === null ? "" : value)).join(",")}` : "";
    url.hash = "";
    return url;
  }

  function applyUrl() {
    const { answers, complete, bad, shown } = answersFromUrl();
    view.notice.hidden = !bad;
    if (bad) {
      view.notice.textContent = "The link you followed had answers we couldn't read, so the questions start empty.";
      say(view.notice.textContent);
      history.replaceState(null, "", urlFor(null));
    }
    setAnswers(answers);
    hideProblem();
    if (!complete) {
      showForm();
      window.scrollTo(0, 0);
      return;
    }
    const journey = journeys.get(answers);
    if (journey && journey.mine) showOwn(journey, answers);
    else if (shown) showShared(shown);
    else if (journey) showShared(mysfitOf(journey.body));
    else recommend(answers, { fromLink: true });
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
      showQuestion(fieldsets().indexOf(missing[0]), { focus: true });
      return;
    }
    view.summary.textContent = "";
    const kept = journeys.get(answers);
    if (kept) {
      // These answers were sent from this browser before (or opened from a link here): the same journey goes on.
      hideProblem();
      history.pushState(null, "", urlFor(answers, "a", mysfitOf(kept.body)));
      showOwn(journeys.update(answers, { mine: true }), answers);
      return;
    }
    recommend(answers);
  }

  // ``fromLink``: a link to a result that this browser has no journey for (someone else's). It is asked for without
  // showing the filled form first: the loading line stays up until the result, or the form with the problem.
  async function recommend(answers, { fromLink = false } = {}) {
    if (fromLink) {
      view.introSection.hidden = false; // its heading stays: the page always has one
      view.form.hidden = true;
      view.result.hidden = true;
      view.loading.hidden = false;
      view.loadingText.textContent = "Opening a shared result…";
    } else {
      showForm();
    }
    hideProblem();
    setBusy(true);
    say(fromLink ? "Opening a shared result…" : "Finding your Mysfit…");
    const stop = new AbortController();
    waiting = stop;
    const wakingUp = setTimeout(() => showWaiting(fromLink), config.wakingUpMs);
    let body;
    try {
      body = await postAnswers(answers, stop.signal);
    } catch (error) {
      setBusy(false);
      showForm();
      const problem = failure(error);
      if (problem.kind === "stopped") {
        view.summary.textContent = "";
        say(`Stopped waiting. ${KEPT} Choose “Find my Mysfit” to ask again.`);
        view.submit.focus();
      } else {
        showProblem(problem);
      }
      return;
    } finally {
      clearTimeout(wakingUp);
      hideWaiting();
      waiting = null;
    }
    setBusy(false);
    const mysfit = mysfitOf(body);
    if (!mysfit) {
      showForm();
      showProblem(new Problem("trouble"));
      return;
    }
    const journey = { at: Date.now(), body, mine: !fromLink, adopted: null };
    // Without a recommendation id the result cannot be adopted; keeping it would stop a later ask from getting one.
    if (typeof body.recommendationId === "string") journeys.put(answers, journey);
    const url = urlFor(answers, "a", mysfit);
    if (fromLink) {
      history.replaceState(null, "", url);
      showShared(mysfit);
    } else {
      history.pushState(null, "", url);
      showOwn(journey, answers);
    }
  }

  function mysfitById(id) {
    return content.mysfits.find((m) => m.id === id) || null;
  }

  // The Mysfit the API showed: its own profile when it sent one, else the catalog's.
  function mysfitOf(body) {
    return (body.mysfit && typeof body.mysfit.name === "string" && body.mysfit.id === body.recommendedMysfit
      ? body.mysfit : null) || mysfitById(body.recommendedMysfit);
  }

  // When the data loop shows a Mysfit other than the model's own best guess (``explored``), that guess; else null.
  // An older API sends neither field, and then the shown Mysfit is the model's pick.
  function explorationPick(body) {
    if (body.explored !== true || typeof body.modelPick !== "string" || body.modelPick === body.recommendedMysfit) {
      return null;
    }
    return mysfitById(body.modelPick);
  }

  // ---- the result -------------------------------------------------------------------------------

  function fillCard(mysfit) {
    el("mysfit-species").textContent = mysfit.species || "Unknown";
    el("mysfit-age").textContent = formatAge(mysfit.age);
    el("mysfit-alignment").textContent = formatAlignment(mysfit.lawchaos, mysfit.goodevil);
    el("mysfit-description").textContent = mysfit.description || "";
    el("mysfit-avatar").replaceChildren(window.MysfitAvatars.draw(mysfit.species, mysfit.name));
    view.card.setAttribute("aria-label", `About ${mysfit.name}`);
    view.result.dataset.mysfitId = mysfit.id;
  }

  function openResult(heading, title) {
    view.resultHeading.textContent = heading;
    document.title = `${title} · Mythical Mysfits`;
    view.shareNote.textContent = "";
    closeGallery();
    hideNotice();
    showResultView();
    view.resultHeading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  // The visitor's own result, from their journey: a fresh answer, a reload, Back/Forward, or the same answers again.
  function showOwn(journey, answers) {
    lastAnswers = answers;
    const body = journey.body;
    const mysfit = mysfitOf(body);
    const pick = explorationPick(body);
    // The reasons (the nearest visitors' votes) always describe the model's own pick.
    const reasons = renderWhy(body.why, pick || mysfit, answers, Boolean(pick));
    let heading = `You're ${mysfit.name}!`;
    if (pick) heading = `Meet ${mysfit.name}`;
    else if (reasons.closeCall) heading = `A close call between ${mysfit.name} and ${reasons.closeCall.name}`;

    view.sharedEyebrow.hidden = true;
    view.sharedText.hidden = true;
    view.takeQuiz.hidden = true;
    view.shareRow.hidden = false;
    view.again.hidden = false;
    view.startOver.hidden = false;
    view.result.setAttribute("aria-label", "Your result");
    fillCard(mysfit);

    view.explored.hidden = !pick;
    let exploring = "";
    if (pick) {
      view.exploredPick.textContent = `Your closest match, going by the visitors whose answers were nearest yours, ` +
        `is ${pick.name}.`;
      view.seePick.textContent = `See ${pick.name}`;
      view.exploredWhy.textContent = `Now and then we introduce a Mysfit other than the closest match, so that our ` +
        `model keeps learning what visitors really like.`;
      exploring = `${view.exploredPick.textContent} ${view.exploredWhy.textContent}`;
    }
    showRunnerUp(pick ? { mysfit: pick, label: "Your closest match" } : reasons.runnerUp);
    markGallery(pick ? { [mysfit.id]: "Introduced to you", [pick.id]: "Your closest match" }
      : { [mysfit.id]: "Your match" });
    offerAdoption(journey, answers, mysfit);
    shareable = { url: urlFor(answers, "a", mysfit).href, name: mysfit.name };
    view.share.textContent = "Share my result";
    openResult(heading, heading);
    // The heading is read when it takes focus; the live region adds the reasons rather than repeating the name.
    say([exploring, reasons.text].filter(Boolean).join(" "));
  }

  // A result someone shared: theirs, not this visitor's. It names the Mysfit, invites the visitor to find their own,
  // and offers nothing to adopt: an adoption made on someone else's answers would teach the model a choice nobody made.
  function showShared(mysfit) {
    lastAnswers = null;
    shareable = null;
    clearTimeout(adoption.retryTimer);
    adoption.recommendationId = null;
    view.sharedEyebrow.hidden = false;
    view.sharedText.textContent = `Someone who took the quiz met ${mysfit.name} and shared it with you. ` +
      `Which Mysfit is yours? Five quick questions will tell.`;
    view.sharedText.hidden = false;
    view.takeQuiz.hidden = false;
    view.shareRow.hidden = true;
    view.again.hidden = true;
    view.startOver.hidden = true;
    view.explored.hidden = true;
    view.why.hidden = true;
    view.runnerUp.hidden = true;
    for (const button of adoptButtons()) button.hidden = true;
    view.adoptedNote.hidden = true;
    hideAdoption();
    view.result.setAttribute("aria-label", "A shared result");
    fillCard(mysfit);
    markGallery({});
    openResult(`This is ${mysfit.name}`, `${mysfit.name}, a shared result`);
    say(view.sharedText.textContent);
  }

  // A lead of at most this many votes (one in ten of the neighbours, at least one) is called a close call.
  const closeCallVotes = (neighbours) => Math.max(1, Math.round(neighbours / 10));

  // The reasons, from the visitor's side first: which of their answers point to this Mysfit (the API says which,
  // from the catalog), then how the earlier visitors most like them chose. Returns what to announce, the Mysfit that
  // came close (when the lead is small) and the next in line, with a label that follows its votes.
  function renderWhy(why, mysfit, answers, explored) {
    const votes = why && Array.isArray(why.votes) ? why.votes : [];
    const named = votes.map((v) => ({ count: v.count, mysfit: mysfitById(v.mysfitId) }));
    const usable = Number.isInteger(why && why.neighbours) && named.length > 0 &&
      named.every((v) => v.mysfit && Number.isInteger(v.count) && v.count > 0) && named[0].mysfit.id === mysfit.id;
    view.why.hidden = !usable;
    view.whyAnswers.replaceChildren();
    if (!usable) return { text: "", closeCall: null, runnerUp: null };
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
    if (closeCall && !explored) crowd += ` That is a close call: ${closeCall.name} suits you almost as well.`;

    view.whyHeading.textContent = explored ? `Why ${mysfit.name} is your closest match` : "Why this Mysfit?";
    view.whyText.textContent = yours;
    view.whyText.hidden = !yours;
    view.whyVotes.textContent = crowd;
    const runnerUp = rest.length && !explored ? {
      mysfit: rest[0].mysfit,
      label: closeCall ? "Also a close match" : `Next in line, with ${rest[0].count} of ${n} votes`,
    } : null;
    return { text: [yours.replace(/:$/, "."), crowd].filter(Boolean).join(" "), closeCall, runnerUp };
  }

  function showRunnerUp(runnerUp) {
    view.runnerUp.hidden = !runnerUp;
    if (!runnerUp) return;
    const { mysfit, label } = runnerUp;
    view.runnerUpLabel.textContent = label;
    el("runner-up-name").textContent = mysfit.name;
    el("runner-up-species").textContent = `the ${mysfit.species}`;
    el("runner-up-avatar").replaceChildren(window.MysfitAvatars.draw(mysfit.species, mysfit.name, true));
    view.adoptRunnerUp.dataset.mysfitId = mysfit.id;
    view.adoptRunnerUp.dataset.label = `Adopt ${mysfit.name} instead`;
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
      badge.hidden = true;
      const about = document.createElement("button");
      about.type = "button";
      about.className = "link-button gallery-about";
      about.dataset.mysfitId = mysfit.id;
      setLabel(about, `About ${mysfit.name}`);
      const adopt = document.createElement("button");
      adopt.type = "button";
      adopt.className = "button secondary adopt gallery-adopt";
      adopt.dataset.mysfitId = mysfit.id;
      adopt.dataset.label = `Adopt ${mysfit.name}`;
      setLabel(adopt, adopt.dataset.label);
      adopt.hidden = true;
      item.append(window.MysfitAvatars.draw(mysfit.species, mysfit.name, true), name, species, badge, about, adopt);
      return item;
    }));
  }

  // A Mysfit's full card, over the page: the tile stays where it was, and Back (like Escape or Close) closes it.
  let dialogEntry = false; // the card pushed a history entry of its own, not yet gone back from
  let skipPop = false;
  function openMysfit(mysfit) {
    el("dialog-name").textContent = mysfit.name;
    el("dialog-species").textContent = mysfit.species || "Unknown";
    el("dialog-age").textContent = formatAge(mysfit.age);
    el("dialog-alignment").textContent = formatAlignment(mysfit.lawchaos, mysfit.goodevil);
    el("dialog-description").textContent = mysfit.description || "";
    el("dialog-avatar").replaceChildren(window.MysfitAvatars.draw(mysfit.species, mysfit.name));
    history.pushState({ card: mysfit.id }, "", `${location.pathname}${location.search}#about-${slug(mysfit)}`);
    dialogEntry = true;
    view.dialog.showModal();
    el("dialog-close").focus();
  }

  view.dialog.addEventListener("close", () => {
    if (dialogEntry) {
      dialogEntry = false;
      skipPop = true; // the entry the card pushed goes; the view under it stays as it is
      history.back();
    }
  });
  el("dialog-close").addEventListener("click", () => view.dialog.close());
  view.dialog.addEventListener("click", (event) => {
    if (event.target === view.dialog) view.dialog.close(); // a click on the backdrop
  });

  // A tile's buttons show their verb ("About", "Adopt") under the name already on the tile; the name is still in the
  // button's accessible name, for a screen reader's list of buttons. Elsewhere the whole label shows.
  function setLabel(button, text) {
    if (!button.matches(".gallery-about, .gallery-adopt")) {
      button.textContent = text;
      return;
    }
    const [verb, ...name] = text.split(" ");
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ` ${name.join(" ")}`;
    button.replaceChildren(verb, hidden);
  }

  // ``labels``: Mysfit id -> the badge its tile wears ("Your match", "Adopted"...); the others wear none.
  function markGallery(labels) {
    for (const item of view.galleryList.children) {
      const label = labels[item.dataset.mysfitId];
      item.classList.toggle("match", Boolean(label));
      const badge = item.querySelector(".gallery-badge");
      badge.textContent = label || "";
      badge.hidden = !label;
    }
  }

  function closeGallery() {
    setGallery(false);
  }

  function setGallery(open) {
    view.gallery.hidden = !open;
    view.galleryToggle.setAttribute("aria-expanded", String(open));
    view.galleryToggle.textContent = open ? "Hide the twelve" : "Meet all twelve";
    view.introGallery.setAttribute("aria-expanded", String(open));
    view.introGallery.textContent = open ? "Hide the twelve Mysfits" : "Meet the twelve Mysfits first";
  }

  // ---- adopting a Mysfit --------------------------------------------------------------------------------
  // POST /choices records which Mysfit the visitor adopted after this recommendation: the data the model
  // learns from next. A failed post keeps the choice and offers a retry, after the Retry-After the API asks for.
  // Whatever happens is said right under the button that was pressed, which keeps the focus where the visitor is.

  function adoptButtons() {
    return [view.adoptMain, view.adoptRunnerUp, ...view.galleryList.querySelectorAll(".gallery-adopt")];
  }

  function offerAdoption(journey, answers, mysfit) {
    clearTimeout(adoption.retryTimer);
    adoption.answers = answers;
    adoption.recommendationId = typeof journey.body.recommendationId === "string" ? journey.body.recommendationId : null;
    adoption.pending = null;
    adoption.origin = null;
    view.adoptMain.dataset.mysfitId = mysfit.id;
    view.adoptMain.dataset.label = `Adopt ${mysfit.name}`;
    view.adoptRetry.hidden = true;
    view.adoptedNote.hidden = true;
    hideAdoption();
    const offered = adoption.recommendationId !== null;
    for (const button of adoptButtons()) {
      button.hidden = !offered;
      button.disabled = false;
      button.removeAttribute("aria-pressed");
      setLabel(button, button.dataset.label);
    }
    if (!offered) {
      adoption.state = "closed";
      showAdoption("Adopting is not available for this result: we couldn't keep it just now. " +
        "Choose “Change my answers” and ask again to adopt.", "info", null, false);
    } else if (typeof journey.adopted === "string") {
      adoption.state = "adopted";
      markAdopted(journey.adopted);
    } else {
      adoption.state = "open";
    }
  }

  // Where the confirmation goes: right after the pressed button's slot (the card, the runner-up or a gallery tile).
  function placeAdoption(origin) {
    const slot = origin && origin.closest(".adopt-slot, .gallery-item");
    if (!slot) view.result.insertBefore(view.adoption, view.shareRow);
    else if (slot.classList.contains("gallery-item")) slot.append(view.adoption);
    else slot.after(view.adoption);
  }

  function hideAdoption() {
    view.adoption.hidden = true;
    view.adoptionText.textContent = "";
    view.adoption.className = "adoption";
    placeAdoption(null);
  }

  // ``tone``: "success", "failure" or "info", each drawn differently (and not by colour alone: each has its mark).
  function showAdoption(text, tone, origin, focus) {
    placeAdoption(origin);
    view.adoptionText.textContent = text;
    view.adoption.className = `adoption ${tone}`;
    view.adoption.hidden = false;
    say(text);
    if (focus) {
      view.adoption.focus({ preventScroll: true });
      view.adoption.scrollIntoView({ block: "nearest" });
    }
  }

  // The adopted Mysfit's buttons say so; every other adopt button goes, since a result is adopted once. ``id`` is ""
  // when the API said a Mysfit was already adopted without saying which.
  function markAdopted(id) {
    const mysfit = id ? mysfitById(id) : null;
    for (const button of adoptButtons()) {
      const adopted = Boolean(mysfit) && button.dataset.mysfitId === id;
      button.hidden = !adopted;
      button.disabled = true;
      if (adopted) {
        button.setAttribute("aria-pressed", "true");
        setLabel(button, `Adopted ${mysfit.name}`);
      }
    }
    const shownId = view.adoptMain.dataset.mysfitId;
    const note = !mysfit ? "A Mysfit was already adopted for this result."
      : id !== shownId ? `You adopted ${mysfit.name} instead.` : "";
    view.adoptedNote.textContent = note;
    view.adoptedNote.hidden = !note;
    if (mysfit) {
      const labels = {};
      for (const item of view.galleryList.children) {
        const badge = item.querySelector(".gallery-badge");
        if (!badge.hidden) labels[item.dataset.mysfitId] = badge.textContent;
      }
      markGallery({ ...labels, [id]: "Adopted" });
    }
  }

  function closeAdoption() {
    for (const button of adoptButtons()) button.disabled = true;
  }

  async function adopt(mysfitId, origin) {
    if (!adoption.recommendationId || adoption.state !== "open") return;
    const mysfit = mysfitById(mysfitId);
    if (!mysfit) return;
    clearTimeout(adoption.retryTimer);
    adoption.state = "sending";
    adoption.pending = mysfitId;
    adoption.origin = origin;
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
      journeys.update(adoption.answers, { adopted: mysfitId });
      markAdopted(mysfitId);
      showAdoption(`You adopted ${mysfit.name}! Thank you: your choice helps us match the next visitors better.`,
        "success", origin, true);
    } else if (response && response.status === 409) {
      adoption.state = "adopted";
      journeys.update(adoption.answers, { adopted: "" });
      markAdopted("");
      showAdoption("A Mysfit was already adopted for this result, so nothing changed. Each result can be adopted once.",
        "info", origin, true);
    } else if (response && response.status === 404) {
      adoption.state = "expired";
      journeys.forget(adoption.answers); // asking again starts a new journey, which can be adopted
      closeAdoption();
      showAdoption("This result is more than a day old and can no longer be adopted. " +
        "Choose “Change my answers” and ask again to adopt.", "failure", origin, true);
    } else if (response && response.status >= 400 && response.status < 500 && response.status !== 429) {
      adoption.state = "refused";
      closeAdoption();
      showAdoption(`We couldn't record the adoption of ${mysfit.name}. Please reload the page and try again.`,
        "failure", origin, true);
    } else {
      adoptionFailed(mysfit, response, origin);
    }
  }

  // Every adopt button waits out the Retry-After too: any of them would be refused the same way.
  function adoptionFailed(mysfit, response, origin) {
    const asked = response ? Number.parseInt(response.headers.get("Retry-After") || "", 10) : NaN;
    let wait = Number.isFinite(asked) && asked > 0 ? Math.min(asked, 60) : 0;
    const why = !navigator.onLine ? "You seem to be offline." : "Our service couldn't record it just now.";
    const kept = `${why} We kept your choice of ${mysfit.name}.`;
    view.adoptRetry.hidden = false;
    const tick = () => {
      const held = wait > 0;
      adoption.state = held ? "waiting" : "open";
      view.adoptRetry.disabled = held;
      for (const button of adoptButtons()) button.disabled = held;
      view.adoptRetry.textContent = held ? `Try again in ${wait} s` : `Try adopting ${mysfit.name} again`;
      if (held) {
        wait -= 1;
        adoption.retryTimer = setTimeout(tick, 1000);
      }
    };
    showAdoption(wait > 0 ? `${kept} The service asked us to wait ${wait} seconds before trying again.` : kept,
      "failure", origin, true);
    tick();
  }

  // ---- wiring -----------------------------------------------------------------------------------

  function startOver(announce) {
    lastAnswers = null;
    setAnswers(null);
    view.notice.hidden = true;
    hideProblem();
    history.pushState(null, "", urlFor(null));
    showForm();
    window.scrollTo(0, 0);
    say(announce);
    view.title.focus();
  }

  // The skip link lands on the heading of whatever is on screen (the questions or the result), not on all of <main>.
  el("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    const target = !view.result.hidden ? view.resultHeading : view.title;
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "start" });
  });
  // Share the result's link: the system's share sheet where there is one, else the clipboard, with a confirmation.
  // The words are the sharer's, for the friend who reads them.
  view.share.addEventListener("click", async () => {
    if (!shareable) return;
    const title = `I got ${shareable.name} · Mythical Mysfits`;
    const text = `I took the Mythical Mysfits quiz and met ${shareable.name}. Which Mysfit is yours?`;
    if (navigator.share) {
      try {
        await navigator.share({ title, text, url: shareable.url });
        return;
      } catch (error) {
        if (error && error.name === "AbortError") return; // the visitor closed the share sheet
      }
    }
    try {
      await navigator.clipboard.writeText(shareable.url);
      view.shareNote.textContent = `Link copied. Whoever opens it meets ${shareable.name} and can take the quiz.`;
    } catch (error) {
      view.shareNote.textContent = `Copy this link to share your result: ${shareable.url}`;
    }
    say(view.shareNote.textContent);
  });
  view.form.addEventListener("submit", submit);
  view.prev.addEventListener("click", () => moveBy(-1));
  view.next.addEventListener("click", () => moveBy(1));
  view.questions.addEventListener("pointerdown", () => {
    byPointer = true;
  });
  // Enter on a choice moves on (the last question's asks), instead of the browser's implicit submission.
  view.questions.addEventListener("keydown", (event) => {
    byPointer = false;
    if (event.key !== "Enter" || event.target.type !== "radio") return;
    event.preventDefault();
    if (current < fieldsets().length - 1) moveBy(1);
    else submit();
  });
  view.loadRetry.addEventListener("click", loadContent);
  view.stopWaiting.addEventListener("click", stopWaiting);
  view.loadingStop.addEventListener("click", stopWaiting);
  view.again.addEventListener("click", () => {
    showForm();
    setAnswers(lastAnswers);
    history.pushState(null, "", urlFor(lastAnswers, "draft"));
    window.scrollTo(0, 0);
    const first = fieldsets()[0];
    (first.querySelector("input:checked") || first.querySelector("input")).focus();
  });
  view.startOver.addEventListener("click", () => startOver("Starting over: all five questions are empty again."));
  view.takeQuiz.addEventListener("click", () => startOver("Five questions, all empty: these answers are yours."));
  view.seePick.addEventListener("click", () => {
    view.runnerUp.scrollIntoView({ block: "center" });
    view.runnerUp.focus({ preventScroll: true });
  });
  for (const toggle of [view.galleryToggle, view.introGallery]) {
    toggle.addEventListener("click", () => {
      const open = view.gallery.hidden;
      setGallery(open);
      if (open) view.galleryHeading.focus();
    });
  }
  el("main").addEventListener("click", (event) => {
    const button = event.target.closest("button.adopt, button.gallery-about");
    if (!button || button.disabled) return;
    if (button.classList.contains("gallery-about")) openMysfit(mysfitById(button.dataset.mysfitId));
    else adopt(button.dataset.mysfitId, button);
  });
  view.adoptRetry.addEventListener("click", () => adoption.pending && adopt(adoption.pending, adoption.origin));
  // The page puts the visitor at the top of each view itself; the browser's remembered offset belongs to another view.
  history.scrollRestoration = "manual";
  window.addEventListener("popstate", () => {
    if (skipPop) {
      skipPop = false;
      return;
    }
    if (view.dialog.open) {
      dialogEntry = false; // Back took the card's entry away already
      view.dialog.close();
      return;
    }
    if (content) applyUrl();
  });

  loadContent();
})();
