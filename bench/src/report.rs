//! What the benchmark binaries print: quantiles and plain aligned tables, so their numbers
//! can be pasted into a closing note as they are.

/// Inclusive quantile of sorted data with linear interpolation (numpy `linear`, Python
/// `statistics.quantiles(method="inclusive")`). `None` for no data.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * p.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(last);
    let hi = (lo + 1).min(last);
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (h - lo as f64) * (b - a))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Columns two spaces apart, each as wide as its widest cell; text left, numbers right as
/// `align` says (missing entries are left-aligned). One line per row, headings first.
pub fn table<R: AsRef<[String]>>(headings: &[&str], align: &[Align], rows: &[R]) -> String {
    let mut width: Vec<usize> = headings.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            let n = cell.chars().count();
            match width.get_mut(i) {
                Some(w) => *w = (*w).max(n),
                None => width.push(n),
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, cell) in cells.enumerate() {
            let w = width.get(i).copied().unwrap_or(0);
            match align.get(i) {
                Some(Align::Right) => s.push_str(&format!("{cell:>w$}  ")),
                _ => s.push_str(&format!("{cell:<w$}  ")),
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = line(&mut headings.iter().copied());
    for row in rows {
        out.push('\n');
        out.push_str(&line(&mut row.as_ref().iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(5.5));
        assert!((quantile(&v, 0.99).unwrap() - 9.91).abs() < 1e-9);
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3.0], 0.99), Some(3.0));
    }

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["W1".to_owned(), "12".to_owned()],
            vec!["W10".to_owned(), "3".to_owned()],
        ];
        let t = table(&["name", "n"], &[Align::Left, Align::Right], &rows);
        assert_eq!(t, "name   n\nW1    12\nW10    3");
    }
}
