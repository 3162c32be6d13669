//! Coordinates of Dutch 4-digit postcode areas, from `data/pc4.csv` (GeoNames, CC BY 4.0;
//! see `data/README.md`), embedded in the binary and parsed once.

use std::sync::LazyLock;

/// (pc4, latitude, longitude, place), sorted by pc4.
static PC4: LazyLock<Vec<(u16, f64, f64, &'static str)>> = LazyLock::new(|| {
    include_str!("../data/pc4.csv")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.splitn(4, ',');
            Some((
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
                f.next()?,
            ))
        })
        .collect()
});

/// The centre of a PC4 area and its place name; None for a postcode without addresses.
pub fn pc4(pc4: u16) -> Option<(f64, f64, &'static str)> {
    PC4.binary_search_by_key(&pc4, |r| r.0)
        .ok()
        .map(|i| (PC4[i].1, PC4[i].2, PC4[i].3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_practices_postcodes_are_known() {
        let (lat, lon, place) = pc4(8232).expect("Lelystad");
        assert_eq!(place, "Lelystad");
        assert!((lat - 52.5).abs() < 0.1 && (lon - 5.47).abs() < 0.1);
        assert_eq!(pc4(9711).map(|p| p.2), Some("Groningen"));
        assert!(pc4(1000).is_none());
        assert!(PC4.len() > 4000);
    }
}
