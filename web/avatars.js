// Avatars drawn in code: one round creature, dressed up per species (wings, horns,
// tentacles...). Nothing is fetched, so the page works offline and owes no one an image.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";

  // A ring of triangular spikes around (cx, cy): manes, fur, flames.
  function spikes(cx, cy, outer, inner, count, fill, rotate = 0) {
    const points = [];
    for (let i = 0; i < count * 2; i += 1) {
      const r = i % 2 === 0 ? outer : inner;
      const a = (Math.PI * i) / count + rotate;
      points.push(`${(cx + r * Math.sin(a)).toFixed(1)},${(cy - r * Math.cos(a)).toFixed(1)}`);
    }
    return `<polygon points="${points.join(" ")}" fill="${fill}"/>`;
  }

  const wing = (fill, side) =>
    `<path transform="${side < 0 ? "translate(120 0) scale(-1 1)" : ""}" fill="${fill}"
      d="M86 60 C100 36 112 30 117 26 C115 42 113 50 108 58 C113 60 114 66 112 72 C106 70 100 72 94 78 Z"/>`;
  const feathers = (fill, side) =>
    `<path transform="${side < 0 ? "translate(120 0) scale(-1 1)" : ""}" fill="${fill}"
      d="M88 62 C96 44 108 38 118 36 C116 44 112 48 108 50 C114 50 116 54 114 58 C110 58 108 60 104 62
         C108 64 108 68 106 72 C100 70 96 72 92 76 Z"/>`;
  const horn = (x, fill, tilt) =>
    `<path fill="${fill}" transform="rotate(${tilt} ${x} 36)" d="M${x - 5} 40 Q${x} 14 ${x + 5} 40 Z"/>`;
  const curlyHorn = (side, fill) =>
    `<path transform="${side < 0 ? "translate(120 0) scale(-1 1)" : ""}" fill="none" stroke="${fill}"
      stroke-width="6" stroke-linecap="round" d="M70 38 C78 20 96 22 94 36 C92 44 84 42 86 36"/>`;
  const snake = (x, tilt, fill) =>
    `<g transform="rotate(${tilt} ${x} 40)"><path fill="none" stroke="${fill}" stroke-width="5" stroke-linecap="round"
      d="M${x} 42 C${x - 6} 34 ${x + 6} 28 ${x} 20"/><circle cx="${x}" cy="18" r="4.5" fill="${fill}"/>
      <circle cx="${x - 1.5}" cy="17" r="1" fill="#fff"/></g>`;
  const tentacle = (x, bend, fill) =>
    `<path fill="none" stroke="${fill}" stroke-width="8" stroke-linecap="round"
      d="M${x} 92 C${x + bend} 104 ${x - bend} 108 ${x + bend * 0.8} 116"/>`;
  const leaf = (tilt, fill) =>
    `<ellipse cx="60" cy="22" rx="7" ry="16" fill="${fill}" transform="rotate(${tilt} 60 38)"/>`;

  const SPECIES = {
    Chimera: {
      body: "#d8944a", cheek: "#e9b27a",
      back: [spikes(60, 66, 50, 38, 14, "#8a4f1f")],
      front: [curlyHorn(1, "#efe2c4"), curlyHorn(-1, "#efe2c4")],
    },
    Cyclops: {
      body: "#88c070", cheek: "#b6dca4", eyes: "one",
      front: [horn(60, "#f3ecd2", 0)],
    },
    Dragon: {
      body: "#d9534f", cheek: "#f08f86",
      back: [wing("#a33a37", 1), wing("#a33a37", -1)],
      front: [horn(42, "#ffd58a", -18), horn(78, "#ffd58a", 18),
        `<circle cx="55" cy="73" r="1.8" fill="#7a2421"/><circle cx="65" cy="73" r="1.8" fill="#7a2421"/>`],
    },
    Gorgon: {
      body: "#9bc48a", cheek: "#c9e2bb",
      back: [snake(30, -30, "#4f8a3a"), snake(90, 30, "#4f8a3a")],
      front: [snake(40, -14, "#3f7a2e"), snake(60, 0, "#5a9a44"), snake(80, 14, "#3f7a2e")],
    },
    Haetae: {
      body: "#e6bd52", cheek: "#f3d98f",
      back: [spikes(60, 66, 48, 39, 18, "#2f8f83")],
      front: [horn(60, "#2f8f83", 0),
        `<circle cx="38" cy="84" r="5" fill="none" stroke="#b5791d" stroke-width="2.5"/>`,
        `<circle cx="82" cy="84" r="5" fill="none" stroke="#b5791d" stroke-width="2.5"/>`],
    },
    Yeti: {
      body: "#f4f8fb", cheek: "#dbe8f3", stroke: "#a8bccd",
      back: [spikes(60, 66, 45, 37, 22, "#dfe9f1")],
      front: [`<ellipse cx="60" cy="68" rx="22" ry="20" fill="#a9c8e6"/>`],
    },
    Kraken: {
      body: "#8a5cb5", cheek: "#b28fd3",
      back: [tentacle(36, -8, "#6d4296"), tentacle(50, 8, "#6d4296"), tentacle(70, -8, "#6d4296"),
        tentacle(84, 8, "#6d4296")],
      front: [`<circle cx="46" cy="44" r="3" fill="#b28fd3"/><circle cx="76" cy="40" r="4" fill="#b28fd3"/>`],
    },
    Plesiosaurus: {
      body: "#4a9cc7", cheek: "#86c3e2",
      back: [`<ellipse cx="22" cy="96" rx="16" ry="6" fill="#2f7aa3" transform="rotate(-25 22 96)"/>`,
        `<ellipse cx="98" cy="96" rx="16" ry="6" fill="#2f7aa3" transform="rotate(25 98 96)"/>`],
      front: [`<circle cx="54" cy="40" r="2" fill="#2f7aa3"/><circle cx="66" cy="40" r="2" fill="#2f7aa3"/>`,
        `<circle cx="40" cy="90" r="3.5" fill="#86c3e2"/><circle cx="80" cy="92" r="3" fill="#86c3e2"/>`],
    },
    Mandrake: {
      body: "#c99c6b", cheek: "#e3bf98",
      back: [`<path d="M48 98 L40 116 M60 102 L60 118 M72 98 L80 116" stroke="#8a6238" stroke-width="4"
        stroke-linecap="round"/>`],
      front: [leaf(-30, "#4c9a4a"), leaf(0, "#67b364"), leaf(30, "#4c9a4a")],
    },
    Pegasus: {
      body: "#f3ecfb", cheek: "#e2d3f5", stroke: "#c6b2e6",
      back: [feathers("#d9ccf2", 1), feathers("#d9ccf2", -1),
        `<path d="M86 60 C100 44 110 40 118 36" fill="none" stroke="#c6b2e6" stroke-width="2"/>`,
        `<path d="M34 60 C20 44 10 40 2 36" fill="none" stroke="#c6b2e6" stroke-width="2"/>`],
      front: [`<path d="M46 36 L40 20 L54 32 Z M74 36 L80 20 L66 32 Z" fill="#e2d3f5"/>`,
        `<path d="M52 34 C56 22 66 22 70 30 C64 28 58 30 52 34 Z" fill="#b497e6"/>`],
    },
    Phoenix: {
      body: "#f39c34", cheek: "#ffc46b",
      back: [feathers("#e8532f", 1), feathers("#e8532f", -1), spikes(60, 40, 26, 12, 5, "#ffd23f", -0.6)],
      front: [`<path d="M55 74 L65 74 L60 82 Z" fill="#ffd23f"/>`],
      mouth: "beak",
    },
    Troll: {
      body: "#93a36f", cheek: "#b8c597",
      back: [`<path d="M28 56 L12 46 L26 70 Z M92 56 L108 46 L94 70 Z" fill="#7a8a58"/>`],
      front: [`<path d="M50 36 C52 22 58 26 60 18 C62 26 68 22 70 36 Z" fill="#5e4a33"/>`,
        `<ellipse cx="60" cy="72" rx="8" ry="7" fill="#7a8a58"/>`,
        `<path d="M46 84 L49 76 L52 84 Z M68 84 L71 76 L74 84 Z" fill="#fffbea"/>`],
    },
  };
  const FALLBACK = { body: "#b7a6d9", cheek: "#d8cdee" };

  function eyes(kind) {
    if (kind === "one") {
      return `<circle cx="60" cy="60" r="14" fill="#fff" stroke="#26324a" stroke-width="2"/>
        <circle cx="62" cy="62" r="7" fill="#26324a"/><circle cx="64" cy="59" r="2.5" fill="#fff"/>`;
    }
    return [48, 72].map((x) => `<circle cx="${x}" cy="60" r="7" fill="#fff" stroke="#26324a" stroke-width="1.5"/>
      <circle cx="${x + 1}" cy="61" r="3.5" fill="#26324a"/><circle cx="${x + 2}" cy="59.5" r="1.2" fill="#fff"/>`)
      .join("");
  }

  function mouth(kind) {
    if (kind === "beak") return "";
    return `<path d="M50 80 Q60 88 70 80" fill="none" stroke="#26324a" stroke-width="2.5" stroke-linecap="round"/>`;
  }

  function draw(species, name) {
    const look = SPECIES[species] || FALLBACK;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 120 120");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `A drawing of ${name || "a Mysfit"}${species ? `, a ${species}` : ""}`);
    svg.classList.add("avatar");
    svg.innerHTML = [
      `<circle cx="60" cy="60" r="58" fill="#fff7e8"/>`,
      ...(look.back || []),
      `<ellipse cx="60" cy="66" rx="34" ry="34" fill="${look.body}"
        ${look.stroke ? `stroke="${look.stroke}" stroke-width="2"` : ""}/>`,
      ...(look.front || []),
      eyes(look.eyes),
      `<circle cx="40" cy="76" r="5" fill="${look.cheek}"/><circle cx="80" cy="76" r="5" fill="${look.cheek}"/>`,
      mouth(look.mouth),
    ].join("");
    return svg;
  }

  window.MysfitAvatars = { draw, species: Object.keys(SPECIES) };
})();
