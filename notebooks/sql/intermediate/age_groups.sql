-- age_groups: the four age groups the answers use (q4, q5, q8), their bounds and their order,
-- written once here.
-- An age in whole years belongs to the group with min_age <= age <= max_age (max_age NULL: no
-- upper bound): '18-24' = 18..24, '25-35' = 25..35, '36-50' = 36..50, '+50' = 51 and over.
-- Ages under 18, and no age, are in no group.
-- Output: age_group, min_age INT, max_age INT, age_group_order INT (youngest first, for ORDER BY)
SELECT age_group, min_age, max_age, age_group_order
FROM (
  VALUES
    ('18-24', 18, 24, 1),
    ('25-35', 25, 35, 2),
    ('36-50', 36, 50, 3),
    ('+50', 51, NULL, 4)
) AS bounds(age_group, min_age, max_age, age_group_order)
