//! Parameter labels from their LaTeX: plotters cannot typeset LaTeX, so the labels are
//! rewritten as plain Unicode text (`\log_{10} f_\ast` -> `log₁₀ f*`,
//! `V_c\,[\mathrm{km\,s^{-1}}]` -> `Vc [km s⁻¹]`).
//!
//! The converter knows the commands parameter labels use: Greek letters, a few symbols,
//! font switches (`\mathrm{..}`, `{\rm ..}`), spacing, `\frac`, operator names and sub- and
//! superscripts. A script becomes Unicode sub- or superscript characters when every one of
//! its characters has one in the plots' font, and stays plain text otherwise. Unknown
//! commands are written as their name, so no label is lost.

/// A LaTeX label as readable Unicode text.
pub fn latex_to_unicode(latex: &str) -> String {
    let chars: Vec<char> = latex.chars().collect();
    let mut p = Parser { c: &chars, i: 0 };
    let out = p.sequence(false);
    // One space between words, none at the ends.
    let mut tidy = String::with_capacity(out.len());
    for ch in out.trim().chars() {
        if ch == ' ' && tidy.ends_with(' ') {
            continue;
        }
        tidy.push(ch);
    }
    tidy
}

/// The label of a parameter drawn on a log10 axis: "log₁₀ " before its label, unless the
/// label already says log.
pub fn log10_label(label: &str) -> String {
    if label.contains("log") {
        label.to_string()
    } else {
        format!("log\u{2081}\u{2080} {label}")
    }
}

/// A piece of rendered text and what it is, for spacing.
enum Atom {
    /// Ordinary text.
    Ord(String),
    /// An operator name (`\log`): a space separates it from a following symbol.
    Op(String),
    /// Source whitespace.
    Space,
    /// A subscript or superscript, attached to what comes before it.
    Script(String),
}

struct Parser<'a> {
    c: &'a [char],
    i: usize,
}

impl Parser<'_> {
    /// Render until the end or, in a group, its closing brace (consumed); a stray closing
    /// brace outside any group is dropped.
    fn sequence(&mut self, group: bool) -> String {
        let mut out = String::new();
        // After an operator name, a letter needs a space ("log x", not "logx").
        let mut after_op = false;
        while let Some(&ch) = self.c.get(self.i) {
            if ch == '}' {
                self.i += 1;
                if group {
                    break;
                }
                continue;
            }
            match self.atom() {
                Atom::Ord(s) => {
                    if after_op
                        && s.chars().next().is_some_and(char::is_alphanumeric)
                        && !out.ends_with(' ')
                    {
                        out.push(' ');
                    }
                    after_op = false;
                    out += &s;
                }
                Atom::Op(s) => {
                    if out.chars().last().is_some_and(char::is_alphanumeric) {
                        out.push(' ');
                    }
                    out += &s;
                    after_op = true;
                }
                Atom::Space => {
                    out.push(' ');
                    after_op = false;
                }
                Atom::Script(s) => out += &s,
            }
        }
        out
    }

    /// The next unit: a character, a group, a command with its arguments, or a script.
    fn atom(&mut self) -> Atom {
        let ch = self.c[self.i];
        self.i += 1;
        match ch {
            '{' => Atom::Ord(self.sequence(true)),
            '\\' => self.command(),
            '_' | '^' => {
                let arg = self.argument();
                Atom::Script(script(&arg, ch == '^'))
            }
            '$' => Atom::Ord(String::new()),
            '~' => Atom::Space,
            c if c.is_whitespace() => {
                self.skip_space();
                Atom::Space
            }
            '-' => Atom::Ord("\u{2212}".into()),
            c => Atom::Ord(c.to_string()),
        }
    }

    fn skip_space(&mut self) {
        while self.c.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    /// A command's argument or a script's: a group, a command (with its own arguments) or
    /// one character; leading spaces are skipped, as TeX does.
    fn argument(&mut self) -> String {
        self.skip_space();
        if self.i >= self.c.len() {
            return String::new();
        }
        match self.atom() {
            Atom::Ord(s) | Atom::Op(s) | Atom::Script(s) => s,
            Atom::Space => String::new(),
        }
    }

    /// After a backslash.
    fn command(&mut self) -> Atom {
        let Some(&first) = self.c.get(self.i) else {
            return Atom::Ord(String::new());
        };
        if !first.is_ascii_alphabetic() {
            self.i += 1;
            return match first {
                ',' => Atom::Ord("\u{2009}".into()),
                ';' | ':' | '>' | ' ' => Atom::Space,
                '!' => Atom::Ord(String::new()),
                '\\' => Atom::Space,
                c => Atom::Ord(c.to_string()),
            };
        }
        let start = self.i;
        while self.c.get(self.i).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        let name: String = self.c[start..self.i].iter().collect();
        // TeX drops the spaces after a control word.
        self.skip_space();
        match name.as_str() {
            "mathrm" | "mathit" | "mathbf" | "mathsf" | "mathtt" | "mathcal" | "mathbb"
            | "boldsymbol" | "text" | "textrm" | "textit" | "textbf" | "mbox" | "hbox" => {
                Atom::Ord(self.argument())
            }
            "operatorname" => Atom::Op(self.argument()),
            "rm" | "it" | "bf" | "sf" | "tt" | "cal" | "displaystyle" | "textstyle"
            | "scriptstyle" | "left" | "right" | "big" | "Big" | "bigl" | "bigr" | "Bigl"
            | "Bigr" | "limits" | "nolimits" => Atom::Ord(String::new()),
            "quad" | "qquad" => Atom::Space,
            "frac" | "tfrac" | "dfrac" => {
                let (a, b) = (self.argument(), self.argument());
                Atom::Ord(format!("{}/{}", bracket(&a), bracket(&b)))
            }
            "sqrt" => Atom::Ord(format!("\u{221a}{}", bracket(&self.argument()))),
            "hat" | "widehat" => Atom::Ord(accent(&self.argument(), '\u{0302}')),
            "bar" | "overline" => Atom::Ord(accent(&self.argument(), '\u{0304}')),
            "tilde" | "widetilde" => Atom::Ord(accent(&self.argument(), '\u{0303}')),
            "dot" => Atom::Ord(accent(&self.argument(), '\u{0307}')),
            "log" | "ln" | "lg" | "exp" | "sin" | "cos" | "tan" | "min" | "max" | "lim" | "det"
            | "arg" => Atom::Op(name),
            other => Atom::Ord(symbol(other).map_or_else(|| other.to_string(), String::from)),
        }
    }
}

/// `a/b` needs parentheses around a term of several characters with an operator in it.
fn bracket(s: &str) -> String {
    if s.chars().any(|c| "+\u{2212}/ ".contains(c)) {
        format!("({s})")
    } else {
        s.to_string()
    }
}

/// A combining accent after the first character of `s`.
fn accent(s: &str, mark: char) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => format!("{c}{mark}{}", chars.as_str()),
        None => String::new(),
    }
}

/// The character of a symbol command.
fn symbol(name: &str) -> Option<&'static str> {
    Some(match name {
        "alpha" => "α",
        "beta" => "β",
        "gamma" => "γ",
        "delta" => "δ",
        "epsilon" => "ϵ",
        "varepsilon" => "ε",
        "zeta" => "ζ",
        "eta" => "η",
        "theta" => "θ",
        "vartheta" => "ϑ",
        "iota" => "ι",
        "kappa" => "κ",
        "lambda" => "λ",
        "mu" => "μ",
        "nu" => "ν",
        "xi" => "ξ",
        "pi" => "π",
        "varpi" => "ϖ",
        "rho" => "ρ",
        "varrho" => "ϱ",
        "sigma" => "σ",
        "varsigma" => "ς",
        "tau" => "τ",
        "upsilon" => "υ",
        "phi" => "ϕ",
        "varphi" => "φ",
        "chi" => "χ",
        "psi" => "ψ",
        "omega" => "ω",
        "Gamma" => "Γ",
        "Delta" => "Δ",
        "Theta" => "Θ",
        "Lambda" => "Λ",
        "Xi" => "Ξ",
        "Pi" => "Π",
        "Sigma" => "Σ",
        "Upsilon" => "Υ",
        "Phi" => "Φ",
        "Psi" => "Ψ",
        "Omega" => "Ω",
        // A star in a label is a subscript or a marker: the plain asterisk reads best.
        "ast" | "star" => "*",
        "times" => "×",
        "cdot" => "·",
        "pm" => "±",
        "mp" => "∓",
        "sim" => "~",
        "approx" => "≈",
        "simeq" => "≃",
        "le" | "leq" => "≤",
        "ge" | "geq" => "≥",
        "ll" => "≪",
        "gg" => "≫",
        "ne" | "neq" => "≠",
        "propto" => "∝",
        "infty" => "∞",
        "partial" => "∂",
        "nabla" => "∇",
        "odot" | "sun" => "⊙",
        "circ" => "∘",
        "degree" => "°",
        "prime" => "′",
        "ell" => "ℓ",
        "hbar" => "ħ",
        "AA" => "Å",
        "to" | "rightarrow" => "→",
        "leftarrow" => "←",
        "langle" => "⟨",
        "rangle" => "⟩",
        "lbrace" => "{",
        "rbrace" => "}",
        "vert" | "mid" => "|",
        _ => return None,
    })
}

/// `s` as a subscript or superscript: Unicode script characters if all of them have one,
/// otherwise the text itself (a partly converted script reads worse than a plain one).
fn script(s: &str, sup: bool) -> String {
    // A degree sign is how `^\circ` is meant.
    if sup && s == "∘" {
        return "°".into();
    }
    let mapped: Option<String> = s
        .chars()
        .map(|c| if sup { superscript(c) } else { subscript(c) })
        .collect();
    match mapped {
        Some(m) if !m.is_empty() => m,
        _ => s.to_string(),
    }
}

/// The Unicode subscript of `c`, where one exists in the plots' font.
fn subscript(c: char) -> Option<char> {
    Some(match c {
        '0'..='9' => char::from_u32(0x2080 + (c as u32 - '0' as u32))?,
        '+' => '₊',
        '-' | '\u{2212}' => '₋',
        '=' => '₌',
        '(' => '₍',
        ')' => '₎',
        'a' => 'ₐ',
        'e' => 'ₑ',
        'o' => 'ₒ',
        'x' => 'ₓ',
        'h' => 'ₕ',
        'k' => 'ₖ',
        'l' => 'ₗ',
        'm' => 'ₘ',
        'n' => 'ₙ',
        'p' => 'ₚ',
        's' => 'ₛ',
        't' => 'ₜ',
        'i' => 'ᵢ',
        'j' => 'ⱼ',
        'r' => 'ᵣ',
        'u' => 'ᵤ',
        'v' => 'ᵥ',
        'β' => 'ᵦ',
        'γ' => 'ᵧ',
        'ρ' => 'ᵨ',
        'φ' => 'ᵩ',
        'χ' => 'ᵪ',
        _ => return None,
    })
}

/// The Unicode superscript of `c`, where one exists in the plots' font.
fn superscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '⁰',
        '1' => '¹',
        '2' => '²',
        '3' => '³',
        '4'..='9' => char::from_u32(0x2074 + (c as u32 - '4' as u32))?,
        '+' => '⁺',
        '-' | '\u{2212}' => '⁻',
        '=' => '⁼',
        '(' => '⁽',
        ')' => '⁾',
        'a' => 'ᵃ',
        'b' => 'ᵇ',
        'c' => 'ᶜ',
        'd' => 'ᵈ',
        'e' => 'ᵉ',
        'f' => 'ᶠ',
        'g' => 'ᵍ',
        'h' => 'ʰ',
        'i' => 'ⁱ',
        'j' => 'ʲ',
        'k' => 'ᵏ',
        'l' => 'ˡ',
        'm' => 'ᵐ',
        'n' => 'ⁿ',
        'o' => 'ᵒ',
        'p' => 'ᵖ',
        'r' => 'ʳ',
        's' => 'ˢ',
        't' => 'ᵗ',
        'u' => 'ᵘ',
        'v' => 'ᵛ',
        'w' => 'ʷ',
        'x' => 'ˣ',
        'y' => 'ʸ',
        'z' => 'ᶻ',
        'A' => 'ᴬ',
        'B' => 'ᴮ',
        'D' => 'ᴰ',
        'E' => 'ᴱ',
        'G' => 'ᴳ',
        'H' => 'ᴴ',
        'I' => 'ᴵ',
        'J' => 'ᴶ',
        'K' => 'ᴷ',
        'L' => 'ᴸ',
        'M' => 'ᴹ',
        'N' => 'ᴺ',
        'O' => 'ᴼ',
        'P' => 'ᴾ',
        'R' => 'ᴿ',
        'T' => 'ᵀ',
        'U' => 'ᵁ',
        'W' => 'ᵂ',
        'α' => 'ᵅ',
        'β' => 'ᵝ',
        'γ' => 'ᵞ',
        'δ' => 'ᵟ',
        'φ' => 'ᵠ',
        'χ' => 'ᵡ',
        '′' | '\'' => '′',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const THIN: &str = "\u{2009}";

    #[test]
    fn global_signal_labels() {
        // src/global/params.rs PARAM_LATEX, in order.
        let want = [
            (r"f_\star", "f*".to_string()),
            (
                r"V_c\,[\mathrm{km\,s^{-1}}]",
                format!("Vc{THIN}[km{THIN}s⁻¹]"),
            ),
            (r"f_X", "fX".into()),
            (r"\tau", "τ".into()),
            (r"\alpha_X", "αX".into()),
            (
                r"\nu_\mathrm{min}\,[\mathrm{keV}]",
                format!("νₘᵢₙ{THIN}[keV]"),
            ),
            (
                r"R_\mathrm{mfp}\,[\mathrm{Mpc}]",
                format!("Rmfp{THIN}[Mpc]"),
            ),
        ];
        for (latex, text) in want {
            assert_eq!(latex_to_unicode(latex), text, "{latex}");
        }
        for l in crate::global::PARAM_LATEX {
            let t = latex_to_unicode(l);
            assert!(!t.contains(['\\', '{', '}', '_', '^']), "{l} -> {t}");
        }
    }

    #[test]
    fn map_and_foreground_labels() {
        let got: Vec<String> = crate::maps::kind::map_param_latex()
            .iter()
            .map(|l| latex_to_unicode(l))
            .collect();
        assert_eq!(got, ["ζ", "log₁₀ Tᵥᵢᵣ/K", "log₁₀ LX/SFR", "E₀/keV"]);
        let fg = crate::likelihoods::LogPolyForeground::new(2, 75.0)
            .unwrap()
            .param_latex();
        let fg: Vec<String> = fg.iter().map(|l| latex_to_unicode(l)).collect();
        assert_eq!(fg, ["a₀", "a₁", "a₂"]);
    }

    #[test]
    fn log_labels_spacing_and_fallbacks() {
        assert_eq!(latex_to_unicode(r"\log_{10} f_\ast"), "log₁₀ f*");
        assert_eq!(latex_to_unicode(r"\log x"), "log x");
        assert_eq!(latex_to_unicode(r"$\ln(1+z)$"), "ln(1+z)");
        assert_eq!(latex_to_unicode(r"M_\odot"), "M⊙");
        assert_eq!(latex_to_unicode(r"T^{\circ}"), "T°");
        assert_eq!(latex_to_unicode(r"x^{2q}"), "x2q");
        assert_eq!(latex_to_unicode(r"\frac{a+b}{c}"), "(a+b)/c");
        assert_eq!(latex_to_unicode(r"\Omega_{\rm b} h^2"), "Ωb h²");
        assert_eq!(latex_to_unicode(r"\unknown"), "unknown");
        assert_eq!(latex_to_unicode("plain_name"), "plainₙame");
        assert_eq!(latex_to_unicode(r"a_{-1}"), "a₋₁");
        assert_eq!(latex_to_unicode("  a  b "), "a b");
        assert_eq!(latex_to_unicode(r"x_"), "x");
        assert_eq!(latex_to_unicode(r"x\"), "x");
        assert_eq!(latex_to_unicode(r"{a"), "a");
        assert_eq!(latex_to_unicode(r"a}b"), "ab");
    }

    #[test]
    fn log10_prefix_unless_the_label_has_a_log() {
        assert_eq!(log10_label("f*"), "log₁₀ f*");
        assert_eq!(log10_label("log₁₀ Tᵥᵢᵣ/K"), "log₁₀ Tᵥᵢᵣ/K");
    }

    /// Every character the converter can write is in the plots' font: a missing glyph would
    /// draw as an empty box.
    #[test]
    fn every_output_character_has_a_glyph() {
        use ab_glyph::{Font, FontRef};
        let font = FontRef::try_from_slice(super::super::FONT).unwrap();
        let mut chars: Vec<char> = Vec::new();
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            chars.extend(subscript(c));
            chars.extend(superscript(c));
        }
        let names = [
            "alpha",
            "beta",
            "gamma",
            "delta",
            "epsilon",
            "varepsilon",
            "zeta",
            "eta",
            "theta",
            "vartheta",
            "iota",
            "kappa",
            "lambda",
            "mu",
            "nu",
            "xi",
            "pi",
            "varpi",
            "rho",
            "varrho",
            "sigma",
            "varsigma",
            "tau",
            "upsilon",
            "phi",
            "varphi",
            "chi",
            "psi",
            "omega",
            "Gamma",
            "Delta",
            "Theta",
            "Lambda",
            "Xi",
            "Pi",
            "Sigma",
            "Upsilon",
            "Phi",
            "Psi",
            "Omega",
            "ast",
            "times",
            "cdot",
            "pm",
            "mp",
            "sim",
            "approx",
            "simeq",
            "le",
            "ll",
            "gg",
            "ne",
            "propto",
            "infty",
            "partial",
            "nabla",
            "odot",
            "circ",
            "degree",
            "prime",
            "ell",
            "hbar",
            "AA",
            "to",
            "leftarrow",
            "langle",
            "rangle",
        ];
        for n in names {
            chars.extend(symbol(n).expect(n).chars());
        }
        chars.extend(['\u{2009}', '\u{2212}', '\u{221a}', '°']);
        let missing: Vec<char> = chars
            .into_iter()
            .filter(|&c| font.glyph_id(c).0 == 0)
            .collect();
        assert!(missing.is_empty(), "no glyph for {missing:?}");
    }
}
