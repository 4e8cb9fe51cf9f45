// Twelve avatars drawn in code, one per species, each built around what makes that creature itself
// (the Kraken's tentacles, the Plesiosaurus's long neck above the water, the Mandrake's root body and
// leaves) so it reads at 96 px. Nothing is fetched: the page works offline and owes no one an image.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const INK = "#26324a";

  // A ring of triangular spikes around (cx, cy): manes and shaggy fur.
  function spikes(cx, cy, outer, inner, count, fill, extra = "") {
    const points = [];
    for (let i = 0; i < count * 2; i += 1) {
      const r = i % 2 === 0 ? outer : inner;
      const a = (Math.PI * i) / count;
      points.push(`${(cx + r * Math.sin(a)).toFixed(1)},${(cy - r * Math.cos(a)).toFixed(1)}`);
    }
    return `<polygon points="${points.join(" ")}" fill="${fill}" ${extra}/>`;
  }

  const eye = (cx, cy, r, iris = INK) =>
    `<circle cx="${cx}" cy="${cy}" r="${r}" fill="#fff" stroke="${INK}" stroke-width="1.2"/>` +
    `<circle cx="${cx + r * 0.15}" cy="${cy + r * 0.15}" r="${r * 0.55}" fill="${iris}"/>` +
    `<circle cx="${cx + r * 0.35}" cy="${cy - r * 0.2}" r="${r * 0.22}" fill="#fff"/>`;
  const slitEye = (cx, cy, r, fill) =>
    `<ellipse cx="${cx}" cy="${cy}" rx="${r}" ry="${r * 0.75}" fill="${fill}" stroke="${INK}" stroke-width="1"/>` +
    `<ellipse cx="${cx}" cy="${cy}" rx="${r * 0.22}" ry="${r * 0.7}" fill="${INK}"/>`;
  const mirror = (markup) => `<g transform="translate(120 0) scale(-1 1)">${markup}</g>`;
  const line = (d, stroke, width, extra = "") =>
    `<path d="${d}" fill="none" stroke="${stroke}" stroke-width="${width}" stroke-linecap="round" ${extra}/>`;

  const DRAWINGS = {
    // A lion's head and mane, a goat's curling horns, and a snake for a tail.
    Chimera: () => [
      line("M80 96 C104 100 110 78 102 64 C96 54 102 44 108 42", "#5b8c3a", 6),
      `<ellipse cx="108" cy="40" rx="7" ry="5" fill="#5b8c3a"/><circle cx="110" cy="38" r="1.3" fill="${INK}"/>`,
      line("M114 41 l5 -2 M114 41 l5 2", "#c0392b", 1.5),
      line("M40 34 C26 12 8 22 18 36", "#8a7a5a", 7),
      line("M68 34 C82 12 100 22 90 36", "#8a7a5a", 7),
      spikes(54, 62, 42, 29, 16, "#a5561a"),
      `<circle cx="54" cy="64" r="24" fill="#e8a54b"/>`,
      `<circle cx="36" cy="44" r="6" fill="#e8a54b"/><circle cx="72" cy="44" r="6" fill="#e8a54b"/>`,
      eye(45, 59, 4.5, "#6b3a12"), eye(63, 59, 4.5, "#6b3a12"),
      `<ellipse cx="54" cy="75" rx="12" ry="8.5" fill="#f6d9a8"/>`,
      `<path d="M48.5 68 L59.5 68 L54 74 Z" fill="#5a2d14"/>`,
      line("M54 74 v4 M47 79 q7 5 14 0", "#5a2d14", 1.8),
    ],
    // One great eye under one great brow, ears like jug handles, and a club.
    Cyclops: () => [
      line("M94 114 L101 62", "#7a4f2a", 7),
      `<ellipse cx="102" cy="54" rx="9" ry="13" fill="#8b5a2b"/>`,
      `<circle cx="99" cy="50" r="1.6" fill="#5a3a1a"/><circle cx="105" cy="57" r="1.6" fill="#5a3a1a"/>`,
      `<path d="M20 120 C22 98 38 88 60 88 C82 88 98 98 100 120 Z" fill="#9c7a4e"/>`,
      line("M40 92 L76 120", "#6e5232", 5),
      `<ellipse cx="30" cy="58" rx="7" ry="10" fill="#94b878"/><ellipse cx="90" cy="58" rx="7" ry="10" fill="#94b878"/>`,
      `<ellipse cx="60" cy="55" rx="30" ry="33" fill="#a8c98a"/>`,
      line("M36 38 Q60 26 84 38", "#4a5b33", 6),
      `<circle cx="60" cy="52" r="15" fill="#fff" stroke="${INK}" stroke-width="1.5"/>`,
      `<circle cx="61" cy="53" r="8" fill="#3b6fb6"/><circle cx="61" cy="53" r="4" fill="${INK}"/>`,
      `<circle cx="64" cy="49" r="2.2" fill="#fff"/>`,
      `<path d="M44 74 Q60 88 76 74 Z" fill="#5a2a2a"/><path d="M50 75 h6 v4 h-6 Z M64 75 h6 v4 h-6 Z" fill="#fff"/>`,
    ],
    // Bat wings, horns, a snout with nostrils, a scaled belly, and a puff of fire.
    Dragon: () => [
      `<path d="M42 66 L6 24 L14 44 L2 48 L16 60 L6 70 L40 80 Z" fill="#8e2f2c"/>`,
      mirror(`<path d="M42 66 L6 24 L14 44 L2 48 L16 60 L6 70 L40 80 Z" fill="#8e2f2c"/>`),
      line("M78 102 C98 108 108 94 104 82", "#c9453f", 7),
      `<path d="M98 84 L106 72 L112 86 Z" fill="#c9453f"/>`,
      `<ellipse cx="60" cy="90" rx="22" ry="21" fill="#d9534f"/>`,
      `<ellipse cx="60" cy="94" rx="13" ry="15" fill="#f7c873"/>`,
      line("M49 88 h22 M48 95 h24 M50 102 h20", "#d9a24e", 1.5),
      `<path d="M46 38 L36 14 L53 33 Z M74 38 L84 14 L67 33 Z" fill="#ffd58a"/>`,
      `<path d="M55 33 L60 24 L65 33 Z" fill="#8e2f2c"/>`,
      `<ellipse cx="60" cy="50" rx="21" ry="17" fill="#d9534f"/>`,
      `<ellipse cx="60" cy="63" rx="14" ry="10" fill="#e36b66"/>`,
      `<circle cx="55" cy="62" r="2" fill="#7a2421"/><circle cx="65" cy="62" r="2" fill="#7a2421"/>`,
      slitEye(51, 47, 4.5, "#ffd23f"), slitEye(69, 47, 4.5, "#ffd23f"),
      `<path d="M74 68 C84 62 90 70 98 62 C96 74 88 80 76 72 Z" fill="#ff9f1c"/>`,
    ],
    // A face crowned with living snakes, and the gaze that turns visitors to stone.
    Gorgon: () => {
      const snakes = [
        ["M44 46 C34 40 38 30 28 26", 26, 24], ["M50 40 C46 30 52 24 44 14", 43, 12],
        ["M60 38 C56 28 64 22 60 10", 60, 8], ["M70 40 C74 30 68 24 76 14", 77, 12],
        ["M76 46 C86 40 82 30 92 26", 94, 24], ["M40 58 C28 58 30 48 20 44", 18, 43],
        ["M80 58 C92 58 90 48 100 44", 102, 43],
      ];
      return [
        ...snakes.map(([d, x, y], i) => {
          const colour = i % 2 ? "#3f7a2e" : "#5e9c45";
          return line(d, colour, 5) + `<ellipse cx="${x}" cy="${y}" rx="5.5" ry="4.5" fill="${colour}"/>` +
            `<circle cx="${x + 1.5}" cy="${y - 1}" r="1.2" fill="#ffd23f"/>`;
        }),
        `<path d="M34 120 C36 100 48 94 60 94 C72 94 84 100 86 120 Z" fill="#6a4c93"/>`,
        `<rect x="53" y="84" width="14" height="14" fill="#8fb87c"/>`,
        `<ellipse cx="60" cy="64" rx="22" ry="26" fill="#9bc48a"/>`,
        line("M46 52 l9 2 M74 52 l-9 2", "#3f6a30", 2),
        slitEye(51, 60, 5, "#ffd23f"), slitEye(69, 60, 5, "#ffd23f"),
        line("M60 64 v8", "#6f9a5e", 1.8),
        `<path d="M52 79 Q60 85 68 79 Q60 82 52 79 Z" fill="#7a2e4a" stroke="#7a2e4a" stroke-width="1.5"/>`,
      ];
    },
    // Korea's guardian lion-dog: one horn, a mane of curls, scales, and a bell at the collar.
    Haetae: () => {
      const curls = [];
      for (let i = 0; i < 10; i += 1) {
        const a = (Math.PI * 2 * i) / 10;
        const x = 60 + 28 * Math.sin(a);
        const y = 52 - 28 * Math.cos(a);
        curls.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="9" fill="#2d6f8c"/>` +
          line(`M${(x - 4).toFixed(1)} ${y.toFixed(1)} a4 4 0 1 1 4 4`, "#8fd0e0", 1.8));
      }
      return [
        `<ellipse cx="60" cy="94" rx="28" ry="22" fill="#3f9a9a"/>`,
        line("M44 92 a5 5 0 0 0 10 0 M56 92 a5 5 0 0 0 10 0 M68 92 a5 5 0 0 0 10 0 M50 102 a5 5 0 0 0 10 0 M62 102 a5 5 0 0 0 10 0",
          "#2a7474", 1.5),
        ...curls,
        `<circle cx="60" cy="54" r="24" fill="#5cc0b5"/>`,
        `<path d="M55 32 L60 10 L65 32 Z" fill="#ffd23f" stroke="#b8860b" stroke-width="1"/>`,
        eye(50, 50, 6), eye(70, 50, 6),
        `<ellipse cx="60" cy="61" rx="7" ry="5" fill="#2d6f8c"/>`,
        `<path d="M44 67 Q60 82 76 67 Z" fill="#7a2e3a"/>`,
        `<path d="M47 68 L50 74 L53 69 Z M67 69 L70 74 L73 68 Z" fill="#fff"/>`,
        `<path d="M42 78 Q60 86 78 78" fill="none" stroke="#c0392b" stroke-width="4"/>`,
        `<circle cx="60" cy="86" r="6" fill="#ffd23f" stroke="#b8860b" stroke-width="1"/>`,
        line("M57 88 h6", "#8a6508", 1.5),
      ];
    },
    // A shaggy white giant with a blue face, arms up, in falling snow.
    Yeti: () => [
      line("M14 20 l8 8 M22 20 l-8 8 M18 18 v12 M98 12 l8 8 M106 12 l-8 8 M102 10 v12", "#6d8fc7", 1.8),
      `<ellipse cx="22" cy="56" rx="10" ry="22" fill="#f4f6fb" stroke="#8ea3c6" stroke-width="1.5" transform="rotate(-25 22 56)"/>`,
      `<ellipse cx="98" cy="56" rx="10" ry="22" fill="#f4f6fb" stroke="#8ea3c6" stroke-width="1.5" transform="rotate(25 98 56)"/>`,
      `<ellipse cx="46" cy="111" rx="12" ry="6" fill="#7d8fb3"/><ellipse cx="74" cy="111" rx="12" ry="6" fill="#7d8fb3"/>`,
      spikes(60, 70, 44, 37, 24, "#f4f6fb", `stroke="#8ea3c6" stroke-width="1.5"`),
      `<ellipse cx="60" cy="56" rx="19" ry="17" fill="#7d8fb3"/>`,
      line("M46 46 l8 3 M74 46 l-8 3", "#3a4a6a", 2.2),
      eye(53, 53, 4), eye(67, 53, 4),
      `<path d="M51 63 Q60 73 69 63 Z" fill="#3a2a4a"/>`,
      `<path d="M54 63.5 L56 68 L58 64 Z M62 64 L64 68 L66 63.5 Z" fill="#fff"/>`,
    ],
    // A domed head with two great eyes over a tangle of curling, suckered arms, rising from the waves.
    Kraken: () => {
      const arms = [
        "M38 62 C20 58 14 42 22 32 C28 26 34 32 30 38", "M82 62 C100 58 106 42 98 32 C92 26 86 32 90 38",
        "M40 66 C24 72 18 88 28 94 C36 98 40 88 34 86", "M80 66 C96 72 102 88 92 94 C84 98 80 88 86 86",
        "M47 70 C40 86 30 98 40 106 C48 110 50 100 44 98", "M73 70 C80 86 90 98 80 106 C72 110 70 100 76 98",
        "M55 72 C52 88 48 100 54 112", "M65 72 C68 88 72 100 66 112",
      ];
      return [
        `<path d="M0 98 Q15 90 30 98 T60 98 T90 98 T120 98 V120 H0 Z" fill="#8fc1e3"/>`,
        ...arms.map((d) => line(d, "#7b4fa0", 7)),
        `<circle cx="24" cy="88" r="1.6" fill="#e6c7f2"/><circle cx="96" cy="88" r="1.6" fill="#e6c7f2"/>`,
        `<circle cx="42" cy="102" r="1.6" fill="#e6c7f2"/><circle cx="78" cy="102" r="1.6" fill="#e6c7f2"/>`,
        `<path d="M34 68 C32 32 48 10 60 10 C72 10 88 32 86 68 C74 76 46 76 34 68 Z" fill="#9b6bc4"/>`,
        `<circle cx="50" cy="28" r="3" fill="#b48ad8"/><circle cx="68" cy="22" r="4" fill="#b48ad8"/>`,
        `<circle cx="74" cy="36" r="2.5" fill="#b48ad8"/>`,
        `<circle cx="49" cy="55" r="8" fill="#fff" stroke="${INK}" stroke-width="1.2"/>`,
        `<circle cx="71" cy="55" r="8" fill="#fff" stroke="${INK}" stroke-width="1.2"/>`,
        `<rect x="44" y="53" width="10" height="4.5" rx="2" fill="${INK}"/><rect x="66" y="53" width="10" height="4.5" rx="2" fill="${INK}"/>`,
      ];
    },
    // A long neck rising from the lake, a small head, and flippers under the surface.
    Plesiosaurus: () => [
      `<ellipse cx="68" cy="88" rx="32" ry="15" fill="#4f9a8a"/>`,
      `<path d="M96 86 L116 92 L96 94 Z" fill="#4f9a8a"/>`,
      `<ellipse cx="46" cy="100" rx="15" ry="5" fill="#3f7f72" transform="rotate(25 46 100)"/>`,
      `<ellipse cx="88" cy="101" rx="15" ry="5" fill="#3f7f72" transform="rotate(-20 88 101)"/>`,
      `<circle cx="66" cy="80" r="3" fill="#6fb8a6"/><circle cx="78" cy="84" r="2.5" fill="#6fb8a6"/>`,
      `<path d="M0 90 Q15 84 30 90 T60 90 T90 90 T120 90 V120 H0 Z" fill="#5aa7d6" opacity="0.8"/>`,
      line("M50 86 C36 64 34 38 48 24", "#4f9a8a", 11),
      `<ellipse cx="55" cy="22" rx="13" ry="8" fill="#4f9a8a" transform="rotate(-8 55 22)"/>`,
      eye(57, 19, 3),
      line("M60 26 q5 0 7 -2", INK, 1.5),
      `<circle cx="66" cy="20" r="1" fill="${INK}"/>`,
      line("M8 100 q6 -3 12 0 M92 110 q6 -3 12 0", "#e9f5fb", 1.8),
    ],
    // A root pulled from the soil: leaves on its head, arms and legs of root, and a famous scream.
    Mandrake: () => [
      `<path d="M0 108 Q60 96 120 108 V120 H0 Z" fill="#7a5a3a"/>`,
      `<ellipse cx="48" cy="22" rx="7" ry="17" fill="#4f9a3a" transform="rotate(-35 48 34)"/>`,
      `<ellipse cx="72" cy="22" rx="7" ry="17" fill="#4f9a3a" transform="rotate(35 72 34)"/>`,
      `<ellipse cx="60" cy="18" rx="7" ry="17" fill="#5fb048"/>`,
      line("M60 6 V32 M45 14 L51 30 M75 14 L69 30", "#2f6a24", 1.2),
      line("M42 60 C32 62 24 54 16 60 M20 58 l-6 -4", "#b58a5e", 4),
      line("M78 60 C88 62 96 54 104 60 M100 58 l6 -4", "#b58a5e", 4),
      line("M54 100 C50 108 46 112 40 116 M66 100 C70 108 74 112 80 116 M60 104 v12", "#b58a5e", 4),
      `<path d="M38 40 C34 62 44 86 56 102 C58 106 62 106 64 102 C76 86 86 62 82 40 C74 30 46 30 38 40 Z" fill="#d9b38c"/>`,
      line("M44 74 q4 2 8 0 M66 82 q4 2 8 0 M50 92 q4 2 6 0", "#a07850", 1.5),
      line("M47 47 l8 3 M73 47 l-8 3", "#5a3a1a", 2),
      `<ellipse cx="51" cy="54" rx="3" ry="4" fill="#3a2a1a"/><ellipse cx="69" cy="54" rx="3" ry="4" fill="#3a2a1a"/>`,
      `<ellipse cx="60" cy="69" rx="6" ry="8" fill="#5a2a1a"/>`,
    ],
    // A white horse in profile, with a flowing mane and a feathered wing.
    Pegasus: () => {
      const feathers = [];
      for (let i = 0; i < 6; i += 1) {
        const angle = -70 + i * 16;
        feathers.push(`<ellipse cx="92" cy="56" rx="26" ry="6" fill="#ffffff" stroke="#9a9ac8" stroke-width="1.2"
          transform="rotate(${angle} 76 66) translate(${-i} 0)"/>`);
      }
      return [
        ...feathers,
        `<path d="M46 38 C64 38 82 62 86 120 L48 120 C52 96 50 78 36 66 Z" fill="#fbfbff" stroke="#9a9ac8" stroke-width="1.5"/>`,
        `<ellipse cx="40" cy="54" rx="22" ry="12" fill="#fbfbff" stroke="#9a9ac8" stroke-width="1.5" transform="rotate(-40 40 54)"/>`,
        `<circle cx="27" cy="65" r="9" fill="#fbfbff" stroke="#9a9ac8" stroke-width="1.5"/>`,
        `<path d="M48 36 L53 20 L56 38 Z" fill="#fbfbff" stroke="#9a9ac8" stroke-width="1.5"/>`,
        line("M54 30 C70 32 80 48 84 66 C88 84 86 100 90 116", "#9b7be0", 8),
        line("M58 40 C66 46 70 56 72 64 M64 58 C70 66 74 76 74 86", "#b9a1f0", 4),
        `<path d="M42 30 C46 22 54 24 54 30 C50 28 46 30 44 34 Z" fill="#9b7be0"/>`,
        `<circle cx="44" cy="48" r="3" fill="${INK}"/><circle cx="45" cy="47" r="1" fill="#fff"/>`,
        `<ellipse cx="23" cy="64" rx="1.8" ry="2.8" fill="#6a6a9a"/>`,
        line("M22 71 q5 2 10 0", "#6a6a9a", 1.5),
      ];
    },
    // A firebird rising with wings of flame, a flaming crest and a long burning tail.
    Phoenix: () => {
      const wing = `<path d="M54 66 C32 64 12 44 12 14 C22 26 26 22 30 34 C32 22 38 20 42 34 C44 26 50 28 54 46 Z" fill="#ff8c2a"/>
        <path d="M54 64 C38 60 26 46 24 30 C30 38 34 36 38 44 C40 38 46 40 52 52 Z" fill="#ffc94a"/>`;
      return [
        `<path d="M52 84 C44 100 40 110 30 118 C46 114 54 104 58 92 Z" fill="#e63b2e"/>`,
        `<path d="M68 84 C76 100 80 110 90 118 C74 114 66 104 62 92 Z" fill="#e63b2e"/>`,
        `<path d="M56 86 C56 100 58 110 60 120 C62 110 64 100 64 86 Z" fill="#ffb020"/>`,
        wing, mirror(wing),
        `<ellipse cx="60" cy="70" rx="13" ry="19" fill="#e8452c"/>`,
        `<ellipse cx="60" cy="74" rx="7" ry="11" fill="#ffb020"/>`,
        `<path d="M55 36 C50 26 56 22 56 12 C60 20 62 18 62 10 C66 20 70 24 65 36 Z" fill="#ffb020"/>`,
        `<circle cx="60" cy="44" r="10" fill="#e8452c"/>`,
        `<path d="M56 47 L64 47 L60 55 Z" fill="#ffd23f" stroke="#b8860b" stroke-width="0.8"/>`,
        eye(55.5, 42, 2.6), eye(64.5, 42, 2.6),
      ];
    },
    // A hulking green brute: long pointed ears, a potato nose, tusks and a mop of mossy hair.
    Troll: () => [
      `<path d="M16 120 C18 92 36 82 60 82 C84 82 102 92 104 120 Z" fill="#7f9a5a"/>`,
      `<path d="M40 120 L46 96 L60 104 L74 96 L80 120 Z" fill="#8b6b4a"/>`,
      `<path d="M36 50 L6 36 L34 66 Z M84 50 L114 36 L86 66 Z" fill="#93ad6a"/>`,
      `<path d="M32 48 L14 40 L32 60 Z M88 48 L106 40 L88 60 Z" fill="#b8c98f"/>`,
      `<ellipse cx="60" cy="58" rx="28" ry="26" fill="#93ad6a"/>`,
      `<path d="M34 44 L38 28 L46 38 L50 22 L56 36 L60 20 L64 36 L70 22 L74 38 L82 28 L86 44 C72 34 48 34 34 44 Z" fill="#5e4a33"/>`,
      line("M42 47 L56 51 M78 47 L64 51", "#4a5b33", 3.5),
      eye(50, 55, 3.5, "#b33"), eye(70, 55, 3.5, "#b33"),
      `<ellipse cx="60" cy="66" rx="9.5" ry="8.5" fill="#7f9a5a"/>`,
      `<circle cx="40" cy="70" r="2" fill="#7f9a5a"/><circle cx="79" cy="64" r="1.6" fill="#7f9a5a"/>`,
      line("M43 78 Q60 84 77 78", "#3a4a2a", 2.5),
      `<path d="M46 80 L48 69 L52 80 Z M68 80 L72 69 L74 80 Z" fill="#fffbea" stroke="#c9c0a0" stroke-width="0.8"/>`,
    ],
  };

  const BACKDROPS = {
    Chimera: "#fde7c8", Cyclops: "#e2f0d9", Dragon: "#fde2dc", Gorgon: "#e8f1e0", Haetae: "#d9eef0",
    Yeti: "#dde8f7", Kraken: "#e6e3f7", Plesiosaurus: "#d6ecf5", Mandrake: "#f1e8d8", Pegasus: "#e9e6fa",
    Phoenix: "#fff0d9", Troll: "#e6ecd9",
  };

  // An unknown species still gets a friendly face rather than nothing.
  function fallback() {
    return [`<circle cx="60" cy="64" r="32" fill="#b7a6d9"/>`, eye(49, 60, 6), eye(71, 60, 6),
      line("M50 78 Q60 86 70 78", INK, 2.5)];
  }

  // decorative: true when the name is already written beside the drawing, so screen readers hear it once.
  function draw(species, name, decorative = false) {
    const parts = (DRAWINGS[species] || fallback)();
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 120 120");
    if (decorative) {
      svg.setAttribute("aria-hidden", "true");
    } else {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", `A drawing of ${name || "a Mysfit"}${species ? `, a ${species}` : ""}`);
    }
    svg.setAttribute("focusable", "false");
    svg.classList.add("avatar");
    svg.dataset.species = species || "";
    // The backdrop fills the square; the stylesheet rounds the <svg> into a disc that clips everything.
    svg.innerHTML = [`<rect width="120" height="120" fill="${BACKDROPS[species] || "#fff7e8"}"/>`, ...parts].join("");
    return svg;
  }

  window.MysfitAvatars = { draw, species: Object.keys(DRAWINGS) };
})();
