//! Statistics shared by the trajectory analysis and the tournament reports.

/// Wilson score interval for `wins` out of `n > 0` at 95% (z = 1.96): unlike the normal
/// approximation it stays inside [0, 1] and behaves at 0% and 100%. `None` with no trials:
/// callers say what that means for them.
pub fn wilson_interval(wins: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let (nf, p) = (n as f64, wins as f64 / n as f64);
    let denom = 1.0 + z * z / nf;
    let centre = (p + z * z / (2.0 * nf)) / denom;
    let half = z * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt() / denom;
    // At 0 or n wins the bound is exactly 0 or 1; the formula leaves rounding dust there.
    let lo = if wins == 0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if wins == n { 1.0 } else { (centre + half).min(1.0) };
    Some((lo, hi))
}
