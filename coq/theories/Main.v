(* Main.v: the paper's theorems under paper-facing names (THEORY.md section 5),
   each restated in full and proved by the development in theories/.
   `make check-proofs` audits every theorem of this file through Assumptions.v. *)
From Coq Require Import ZArith Reals List Lra.
From Flocq Require Import Core.
From Flocq Require IEEE754.Binary.
Import Flocq.IEEE754.Binary.
From ADCorrect Require FormatCard.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKink NoKinkAD Counting T2 T5a.
From ADCorrect Require T5b T3 T1 T4.
From ADCorrect Require Import Clarke.
Import ListNotations.
Open Scope R_scope.

(* ---- THEORY.md section 1: |M| for IEEE-style formats --------------------- *)

(* |M| = 2^p (2^eb - 1) - 1 distinct finite values (+0 = -0, no NaN/inf). *)
Theorem format_card (p eb : Z) :
  (1 <= p)%Z -> (2 <= eb)%Z ->
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float p (2 ^ (eb - 1)), is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = (2 ^ p * (2 ^ eb - 1) - 1)%Z.
Proof. exact (FormatCard.format_card p eb). Qed.

Theorem format_card_binary16 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 11 16, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 63487%Z.
Proof. exact FormatCard.format_card_binary16. Qed.

Theorem format_card_bfloat16 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 8 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 65279%Z.
Proof. exact FormatCard.format_card_bfloat16. Qed.

Theorem format_card_binary32 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 24 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 4278190079%Z.
Proof. exact FormatCard.format_card_binary32. Qed.

(* ---- THEORY.md section 5, T2: the counting bound and its tightness -------- *)

(* Kinked points: for a bias network over a finite M (duplicate-free list), at
   most n |M|^(W-1) parameter vectors in M^W have a kink neuron, where
   n = kink_total net = sum over neurons of |ndf(sigma_k)|. *)
Theorem T2_kink_count_bound (net : network) (M : list R) :
  bias_network net -> NoDup M ->
  (count (fun u => kink_neurons net (word_vec u) <> []) (words M (n_params net))
   <= kink_total net * length M ^ (n_params net - 1))%nat.
Proof. exact (T2.kink_count_bound net M). Qed.

(* T2: |ndf_M(f)| <= n |M|^(W-1) for (well-formed) bias networks. *)
Theorem T2_ndf_count_bound (net : network) (M : list R) :
  wf net -> bias_network net -> NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
     (words M (n_params net))
   <= kink_total net * length M ^ (n_params net - 1))%nat.
Proof. exact (T2.T2_ndf_count_bound net M). Qed.

(* T2 as a fraction: |ndf_M(f)| / |M^W| <= n / |M|. *)
Theorem T2_ndf_fraction_bound (net : network) (M : list R) :
  wf net -> bias_network net -> NoDup M -> M <> [] -> (1 <= n_params net)%nat ->
  INR (count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
         (words M (n_params net))) / INR (length M ^ n_params net)
  <= INR (kink_total net) / INR (length M).
Proof. exact (T2.T2_ndf_fraction_bound net M). Qed.

(* T2 tightness: N neurons y_k = b_k with one activation whose m kinks all lie
   in M, output f = sum_k c_k z_k with constant non-zero c_k, parameters W >= N:
   exactly |M|^W - (|M|-m)^N |M|^(W-N) non-differentiable points, at least
   bound * (1 - (N-1) m / (2|M|)), and exactly the bound N m |M|^(W-1) for N = 1. *)
Theorem T2_tightness (a : activation) (N W : nat) (c : vec) (M : list R) :
  NoDup M -> incl (kinks a) M -> (N <= W)%nat -> (forall k, (k < N)%nat -> c k <> 0) ->
  let ndf := count (fun u => ~ differentiable W (tight_net a N c) (word_vec u)) (words M W) in
  let q := length M in let m := length (kinks a) in
  ndf = (q ^ W - (q - m) ^ N * q ^ (W - N))%nat /\
  INR (N * m * q ^ (W - 1)) * (1 - INR (N - 1) * INR m / (2 * INR q)) <= INR ndf /\
  (N = 1%nat -> ndf = (N * m * q ^ (W - 1))%nat).
Proof. exact (T2.T2_tightness a N W c M). Qed.

(* The same family built as a network of Network.v: a well-formed bias network
   with n = N m, for which the T2 bound is attained up to the Bonferroni factor. *)
Theorem T2_tightness_network (a : activation) (N W : nat) (c : vec) (M : list R) :
  NoDup M -> incl (kinks a) M -> (N <= W)%nat -> (forall k, (k < N)%nat -> c k <> 0) ->
  let net := tight_network a N W c in
  let ndf := count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
               (words M (n_params net)) in
  let q := length M in let m := length (kinks a) in
  wf net /\ bias_network net /\ kink_total net = (N * m)%nat /\
  ndf = (q ^ W - (q - m) ^ N * q ^ (W - N))%nat /\
  INR (kink_total net * q ^ (W - 1)) * (1 - INR (N - 1) * INR m / (2 * INR q)) <= INR ndf /\
  (N = 1%nat -> ndf = (kink_total net * q ^ (W - 1))%nat).
Proof. exact (T2.T2_tightness_network a N W c M). Qed.

(* ---- T5: beyond bias parameters ----------------------------------------- *)

(* T5(a): the bias-free network x = 1, z_1 = a x, y_2 = v_1 z_1, y_3 = v_2 z_1
   (relu), f = z_2 - z_3 is differentiable at (a, v_1, v_2) = (0, 1, -1) with
   df/da = 1, while AD with relu'(0) = 0 returns 0: inc_M(f) is non-empty for
   every M containing 0, 1, -1. *)
Theorem T5a_inc_nonempty :
  exists g, differentiable_at 3 (net_eval T5a) T5a_w0 g /\ ad T5a T5a_D T5a_w0 0%nat <> g 0%nat.
Proof.
  exists (unit_vec 0). destruct T5a_ad_wrong as [Hd [Had Hu]].
  split; [exact Hd|]. rewrite Had, Hu. lra.
Qed.

(* T5(b), for every well-formed network: if no kink neuron has a non-zero
   adjoint (not NS), f is differentiable at w and AD_D f(w) is its gradient,
   whatever the choice D. *)
Theorem T5b_not_NS_differentiable (net : network) (D : nat -> R) (w : vec) :
  wf net -> ~ NS net D w ->
  differentiable_at (n_params net) (net_eval net) w (ad net D w).
Proof. exact (T5b.T5b_not_NS_differentiable net D w). Qed.

(* T5(c): NS(w) implies non-differentiability whenever the topmost kink neuron
   with a non-zero adjoint is perturbable at w (any network). *)
Theorem T5c_NS_not_differentiable (net : network) (D : nat -> R) (w : vec) :
  wf net -> NS net D w ->
  (forall k, In k (kink_neurons net w) -> zbar net D w k <> 0 ->
     (forall j, In j (kink_neurons net w) -> (k < j)%nat -> zbar net D w j = 0) ->
     perturbable net w k) ->
  ~ differentiable (n_params net) (net_eval net) w.
Proof. exact (T3.T5c_NS_not_differentiable net D w). Qed.

(* ---- T3: the exact test -------------------------------------------------- *)

(* For bias networks, every w and every choice D: f is not differentiable at w
   iff some kink neuron has a non-zero adjoint. *)
Theorem T3_ndf_iff_NS (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net ->
  (~ differentiable (n_params net) (net_eval net) w <-> NS net D w).
Proof. exact (T3.T3 net D w). Qed.

(* ---- T1: AD is correct wherever the network is differentiable ----------- *)

(* For bias networks, at every w (machine-representable or not) and for every
   choice D: if f is differentiable at w with gradient g, AD_D f(w) = g;
   hence inc_M(f) is empty for every M. *)
Theorem T1_ad_correct (net : network) (D : nat -> R) (w g : vec) :
  wf net -> bias_network net -> differentiable_at (n_params net) (net_eval net) w g ->
  forall p, (p < n_params net)%nat -> ad net D w p = g p.
Proof. exact (T1.T1_ad_correct net D w g). Qed.

(* ---- T4: AD returns a Clarke subderivative ------------------------------- *)

(* For bias networks, if at every kink neuron the chosen derivative D k lies
   between the one-sided slopes, AD_D f(w) lies in the Clarke subdifferential:
   a convex combination of limits of gradients grad f(w_n), w_n -> w, f
   differentiable at w_n (Clarke.v: clarke_limit, in_clarke). *)
Theorem T4_ad_in_clarke (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net ->
  (forall k, In k (kink_neurons net w) ->
     Rmin (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))
       <= D k <=
     Rmax (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))) ->
  in_clarke net w (ad net D w).
Proof. exact (T4.T4_ad_in_clarke net D w). Qed.

(* ---- THEORY.md section 4: forward mode gives the same numbers ------------ *)

From ADCorrect Require Import ForwardAD.

(* For every well-formed network, every choice D and every w: forward-mode AD
   (tangents propagated from the first neuron up, with D sigma_k(y_k) at every
   neuron, ForwardAD.v) along e_p is the p-th entry of reverse-mode AD. *)
Theorem ad_forward_eq_reverse (net : network) (D : nat -> R) (w : vec) (p : nat) :
  wf net -> (p < n_params net)%nat ->
  ad_forward net D w (unit_vec p) = ad net D w p.
Proof. intros Hwf Hp; exact (ForwardAD.ad_forward_eq_reverse net Hwf D w p Hp). Qed.

(* ... and along every direction h, the tangent is AD_D f(w) . h *)
Theorem ad_forward_eq_reverse_dot (net : network) (D : nat -> R) (w h : vec) :
  wf net -> ad_forward net D w h = dot (n_params net) (ad net D w) h.
Proof. intros Hwf; exact (ForwardAD.ad_forward_dot net Hwf D w h). Qed.

(* ---- THEORY.md section 2: the quadratic and the shifted instances --------- *)

(* hardswish(x) = x relu6(x + 3) / 6 (quadratic on [-3, 3]): kinks -3 and 3,
   one-sided slopes (0, -1/2) at -3 and (3/2, 1) at 3 *)
Theorem hardswish_kinks_slopes :
  (forall x, act_eval hardswish x = x * Rmin 6 (Rmax 0 (x + 3)) / 6) /\
  kinks hardswish = [-3; 3] /\
  slope_left hardswish (-3) = 0 /\ slope_right hardswish (-3) = -1/2 /\
  slope_left hardswish 3 = 3/2 /\ slope_right hardswish 3 = 1.
Proof.
  split; [intros x; rewrite hardswish_eval, relu6_eval; reflexivity|].
  split; [exact hardswish_kinks | exact hardswish_slopes].
Qed.

(* softshrink(l), l > 0: x + l below -l, 0 on [-l, l], x - l above l; kinks
   -l and l, one-sided slopes (1, 0) at -l and (0, 1) at l *)
Theorem softshrink_kinks_slopes (l : posreal) :
  (forall x, (x < - l -> act_eval (softshrink l) x = x + l) /\
             (- l <= x <= l -> act_eval (softshrink l) x = 0) /\
             (l < x -> act_eval (softshrink l) x = x - l)) /\
  kinks (softshrink l) = [- l; pos l] /\
  slope_left (softshrink l) (- l) = 1 /\ slope_right (softshrink l) (- l) = 0 /\
  slope_left (softshrink l) l = 0 /\ slope_right (softshrink l) l = 1.
Proof.
  split; [exact (softshrink_eval l)|].
  split; [exact (softshrink_kinks l) | exact (softshrink_slopes l)].
Qed.

(* ---- T4 needs the bias hypothesis (T5(a)'s network) ----------------------- *)

(* At T5(a)'s point w0 = (a, v_1, v_2) = (0, 1, -1) the network is well
   formed and the choice relu'(0) = 0 lies between the one-sided slopes at
   every kink neuron (the hypotheses of T4 except bias_network), yet AD_D f(w0)
   is not in the Clarke subdifferential: every Clarke subgradient there has
   first coordinate 1, AD's is 0. *)
Theorem T4_fails_without_bias :
  wf T5a /\
  (forall k, In k (kink_neurons T5a T5a_w0) ->
     Rmin (slope_left (sigma T5a k) (preact T5a T5a_w0 k)) (slope_right (sigma T5a k) (preact T5a T5a_w0 k))
       <= T5a_D k <=
     Rmax (slope_left (sigma T5a k) (preact T5a T5a_w0 k)) (slope_right (sigma T5a k) (preact T5a T5a_w0 k))) /\
  ~ in_clarke T5a T5a_w0 (ad T5a T5a_D T5a_w0) /\
  (forall g, in_clarke T5a T5a_w0 g -> g 0%nat = 1).
Proof. exact T5a.T4_fails_without_bias. Qed.

(* The Clarke subdifferential there, exactly: {(1, 0, 0)}. *)
Theorem T5a_clarke_exact (g : vec) :
  in_clarke T5a T5a_w0 g <-> forall p, (p < 3)%nat -> g p = unit_vec 0 p.
Proof. exact (T5a.T5a_clarke_exact g). Qed.

(* ---- T2 tightness with output weights as parameters and an output bias ---- *)

(* N neurons y_k = b_k (activation a, whose m kinks lie in M), output
   f = sum_k v_k z_k + c with the v_k and c parameters too (b_k = w_(2k),
   v_k = w_(2k+1), c = w_(2N), W >= 2N + 1): a well-formed bias network with
   n = N m, and when 0 is in M exactly
   |M|^W - (|M|^2 - m (|M| - 1))^N |M|^(W-2N) points of M^W are
   non-differentiable. *)
Theorem T2_tightness_output_params (a : activation) (N W : nat) (M : list R) :
  NoDup M -> incl (kinks a) M -> In 0 M -> (2 * N + 1 <= W)%nat ->
  let net := tightv_network a N W in
  let ndf := count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
               (words M (n_params net)) in
  let q := length M in let m := length (kinks a) in
  (forall w, net_eval net w =
     sumn N (fun k => w (2 * k + 1)%nat * act_eval a (w (2 * k)%nat)) + w (2 * N)%nat) /\
  wf net /\ bias_network net /\ kink_total net = (N * m)%nat /\
  ndf = (q ^ W - (q * q - m * (q - 1)) ^ N * q ^ (W - 2 * N))%nat.
Proof.
  intros HM HK H0 HW net ndf q m.
  split; [intros w; apply T2.tightv_eval|].
  exact (T2.T2_tightness_output_params a N W M HM HK H0 HW).
Qed.

(* ---- T5(c), second half: T4 beyond bias networks ------------------------- *)

(* For every well-formed network (not necessarily a bias network): if every
   kink neuron at w is perturbable at w (THEORY.md section 3: it has an
   exclusive affine parameter whose coefficient a_k(w) is non-zero) and every
   choice D k lies between the one-sided slopes of sigma_k at y_k(w), then
   AD_D f(w) is in the Clarke subdifferential of f at w. *)
Theorem T5c_ad_in_clarke_perturbable (net : network) (D : nat -> R) (w : vec) :
  wf net ->
  (forall k, In k (kink_neurons net w) -> perturbable net w k) ->
  (forall k, In k (kink_neurons net w) ->
     Rmin (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))
       <= D k <=
     Rmax (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))) ->
  in_clarke net w (ad net D w).
Proof. exact (T4.T5c_ad_in_clarke_perturbable net D w). Qed.

(* THEORY.md asks for "distinct" exclusive parameters; that is automatic: a
   parameter exclusive to neuron k with a non-zero coefficient at some w is
   exclusive to no other neuron. *)
Theorem perturbable_params_distinct (net : network) (w : vec) (p k k' : nat) (a r a' r' : expr) :
  exclusive_param_with net p k a r -> excl_coeff net w k a <> 0 ->
  exclusive_param_with net p k' a' r' -> k = k'.
Proof. exact (T4.perturbable_params_distinct net w p k k' a r a' r'). Qed.

(* ---- T1-T4 for dense MLPs with a bias on every layer ---------------------- *)

From ADCorrect Require Import MLP.
From ADCorrect Require MLPCorollaries NonVacuity.

(* mlp xs ls: fixed input xs, layers ls = [(width, activation, has_bias); ...],
   y_l = W_l z_(l-1) + b_l, f = the last unit's output (MLP.v).  Hypotheses:
   every layer has its bias (all_biased ls) and some layer has a unit. *)

(* T1: AD_D f(w) = grad f(w) wherever f is differentiable, for every D *)
Theorem T1_mlp_ad_correct (xs : list R) (ls : list layer) (D : nat -> R) (w g : vec) :
  all_biased ls -> (exists l, In l ls /\ (0 < layer_units l)%nat) ->
  differentiable_at (n_params (mlp xs ls)) (net_eval (mlp xs ls)) w g ->
  forall p, (p < n_params (mlp xs ls))%nat -> ad (mlp xs ls) D w p = g p.
Proof. intros Hb Hu; exact (MLPCorollaries.T1_mlp_ad_correct xs ls Hb Hu D w g). Qed.

(* T2: |ndf_M(f)| <= n |M|^(W-1) with n = sum over layers of
   width x |kinks of the layer's activation| *)
Theorem T2_mlp_ndf_count_bound (xs : list R) (ls : list layer) (M : list R) :
  all_biased ls -> (exists l, In l ls /\ (0 < layer_units l)%nat) -> NoDup M ->
  (count (fun u => ~ differentiable (n_params (mlp xs ls)) (net_eval (mlp xs ls)) (word_vec u))
     (words M (n_params (mlp xs ls)))
   <= list_sum (map (fun l => layer_units l * length (kinks (layer_act l)))%nat ls) *
      length M ^ (n_params (mlp xs ls) - 1))%nat.
Proof. intros Hb Hu; exact (MLPCorollaries.T2_mlp_ndf_count_bound xs ls Hb Hu M). Qed.

(* T3: f is not differentiable at w iff NS(w), for every w and every D *)
Theorem T3_mlp_ndf_iff_NS (xs : list R) (ls : list layer) (D : nat -> R) (w : vec) :
  all_biased ls -> (exists l, In l ls /\ (0 < layer_units l)%nat) ->
  (~ differentiable (n_params (mlp xs ls)) (net_eval (mlp xs ls)) w <-> NS (mlp xs ls) D w).
Proof. intros Hb Hu; exact (MLPCorollaries.T3_mlp_ndf_iff_NS xs ls Hb Hu D w). Qed.

(* T4: choices between the one-sided slopes give a Clarke subgradient *)
Theorem T4_mlp_ad_in_clarke (xs : list R) (ls : list layer) (D : nat -> R) (w : vec) :
  all_biased ls -> (exists l, In l ls /\ (0 < layer_units l)%nat) ->
  (forall k, In k (kink_neurons (mlp xs ls) w) ->
     Rmin (slope_left (sigma (mlp xs ls) k) (preact (mlp xs ls) w k))
          (slope_right (sigma (mlp xs ls) k) (preact (mlp xs ls) w k))
       <= D k <=
     Rmax (slope_left (sigma (mlp xs ls) k) (preact (mlp xs ls) w k))
          (slope_right (sigma (mlp xs ls) k) (preact (mlp xs ls) w k))) ->
  in_clarke (mlp xs ls) w (ad (mlp xs ls) D w).
Proof. intros Hb Hu; exact (MLPCorollaries.T4_mlp_ad_in_clarke xs ls Hb Hu D w). Qed.

(* ---- The hypotheses are satisfiable, the conclusions not vacuous ---------- *)

(* A 2-layer ReLU MLP with biases, input 1, two relu units and one linear
   output unit, f(w) = w4 relu(w0 + w2) + w5 relu(w1 + w3) + w6: it meets
   every hypothesis of T1-T4 (all_biased, hence wf and bias_network; the
   PyTorch choice relu'(0) = 0 lies between the one-sided slopes at every kink
   neuron of every w), it has an NS point (0, 0, 0, 0, 1, 0, 0), where it is
   not differentiable, and it is differentiable at (1, ..., 1). *)
Theorem nonvacuity_relu_mlp :
  let net := mlp [1] [(2%nat, relu, true); (1%nat, act_id, true)] in
  let w_ns : vec := fun i => if Nat.eq_dec i 4 then 1 else 0 in
  all_biased [(2%nat, relu, true); (1%nat, act_id, true)] /\
  wf net /\ bias_network net /\ n_params net = 7%nat /\
  (forall w, net_eval net w =
     w 4%nat * Rmax 0 (w 0%nat + w 2%nat) + w 5%nat * Rmax 0 (w 1%nat + w 3%nat) + w 6%nat) /\
  (forall D, NS net D w_ns) /\ ~ differentiable (n_params net) (net_eval net) w_ns /\
  (forall D, differentiable_at (n_params net) (net_eval net) (fun _ => 1) (ad net D (fun _ => 1))) /\
  (forall w k, In k (kink_neurons net w) ->
     Rmin (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))
       <= 0 <=
     Rmax (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))).
Proof.
  split; [exact NonVacuity.nv_all_biased|]. split; [exact NonVacuity.nv_wf|].
  split; [exact NonVacuity.nv_bias|]. split; [reflexivity|].
  split; [exact NonVacuity.nv_eval|]. split; [exact NonVacuity.nv_NS|].
  split; [exact NonVacuity.nv_not_differentiable|].
  split; [exact NonVacuity.nv_differentiable_smooth|].
  exact NonVacuity.nv_choice_between.
Qed.

(* relu is not differentiable at 0, in the Frechet sense of Frechet.v *)
Theorem relu_not_differentiable_at_0 :
  (forall x, act_eval relu x = Rmax 0 x) /\
  ~ differentiable 1 (fun w => Rmax 0 (w 0%nat)) vzero.
Proof. split; [exact relu_eval | exact NonVacuity.relu_not_differentiable_at_0]. Qed.

(* The one-neuron network f(b) = relu(b) (a well-formed bias network): its
   Clarke subdifferential at 0 is exactly [0, 1] ... *)
Theorem relu_clarke_at_0 (g : vec) :
  (forall w, net_eval NonVacuity.relu_neuron w = Rmax 0 (w 0%nat)) /\
  wf NonVacuity.relu_neuron /\ bias_network NonVacuity.relu_neuron /\
  (in_clarke NonVacuity.relu_neuron vzero g <-> 0 <= g 0%nat <= 1).
Proof.
  split; [exact NonVacuity.relu_neuron_eval|]. split; [exact NonVacuity.relu_neuron_wf|].
  split; [exact NonVacuity.relu_neuron_bias | exact (NonVacuity.relu_clarke_at_0 g)].
Qed.

(* ... so 5 is not in it: in_clarke is not trivially true *)
Theorem five_not_in_clarke : ~ in_clarke NonVacuity.relu_neuron vzero (fun _ => 5).
Proof. exact NonVacuity.five_not_in_clarke. Qed.
(* ---- Certified numbers (issue 10, item 9) ------------------------------- *)

From Coq Require QArith Qreals.
From ADCorrect Require QAct QNet QAD QDecide QSpec Examples T5aCount Certified.

Section CertifiedNumbers.
Import QArith Qreals QAct QNet QAD QDecide QSpec Examples.
Open Scope R_scope.

(* Computable versions over Q (Computation/QNet.v, QAD.v) of the forward
   pass, K(w), the adjoints, AD and NS, equal to the real definitions of
   Network.v and AD.v at rational points: [to_network n] reads a network with
   rational constants and the activations of QAct.v as a network of
   Network.v, [qpoint u] reads a list of rationals as a vector of R^W, and a
   choice D with rational values is [qD dq] (neuron k gets nth k dq 0). *)
Theorem computable_eval_eq (n : qnet) (u : list Q) :
  net_eval (to_network n) (qpoint u) = Q2R (qnet_eval n u).
Proof. apply qnet_eval_correct. Qed.

Theorem computable_preact_eq (n : qnet) (u : list Q) (k : nat) :
  (k < qsize n)%nat -> preact (to_network n) (qpoint u) k = Q2R (qpreact n u (qzvec n u) k).
Proof. apply qpreact_correct. Qed.

Theorem computable_kinks_eq (n : qnet) (u : list Q) :
  kink_neurons (to_network n) (qpoint u) = qkink_neurons n u (qzvec n u).
Proof. apply qkink_neurons_correct. Qed.

Theorem computable_ybar_eq (n : qnet) (dq u : list Q) (k : nat) :
  ybar (to_network n) (qD dq) (qpoint u) k = Q2R (nth k (qybar n u (qzvec n u) dq) 0%Q).
Proof. apply qybar_correct. Qed.

Theorem computable_zbar_eq (n : qnet) (dq u : list Q) (k : nat) :
  zbar (to_network n) (qD dq) (qpoint u) k = Q2R (qzbar n dq u k).
Proof. apply qzbar_correct. Qed.

Theorem computable_ad_eq (n : qnet) (dq u : list Q) (p : nat) :
  (p < q_params n)%nat -> ad (to_network n) (qD dq) (qpoint u) p = Q2R (nth p (qad n dq u) 0%Q).
Proof. apply qad_correct. Qed.

Theorem computable_NS_iff (n : qnet) (dq u : list Q) :
  NS (to_network n) (qD dq) (qpoint u) <-> qNS n dq u = true.
Proof. apply qNS_correct. Qed.

(* T3 on counts: for bias networks the non-differentiable points of M^W are
   exactly the NS points, whatever the choice D (any finite list M). *)
Theorem T3_ndf_count_eq_ns_count (net : network) (D : nat -> R) (M : list R) :
  wf net -> bias_network net -> ndf_count net M = ns_count net D M.
Proof. apply ndf_count_eq_ns_count. Qed.

(* The network of examples/t5a.json, f(a, v_1, v_2) = relu(v_1 a) - relu(v_2 a),
   at a = 0 (every real point): differentiable iff |v_1| = |v_2|.  T5(b) and
   T5(c) decide every other point; Certified.v counts with this. *)
Theorem T5a_differentiable_at_a0_iff (w : vec) : w 0%nat = 0 ->
  (differentiable 3 (net_eval net_t5a) w <-> Rabs (w 1%nat) = Rabs (w 2%nat)).
Proof. apply T5aCount.t5a_differentiable_a0_iff. Qed.

(* Certified counts (Computation/Certified.v), proved by vm_compute through
   T5(b), T5(c) and, for T5(a) at a = 0, Computation/T5aCount.v.  net_X is the
   network of examples/X.json (spec_X, rendered in Computation/Examples.v from
   the JSON file and checked against it by tests/test_coqspec.py); M_fp_2_2,
   M_e2m1 and M_list_m1_0_1 are the values of fp(2,2), e2m1 and list(-1,0,1);
   spec_torch s is PyTorch's choice at the kinks.
     ndf_count net M = |{ w in M^W : f not differentiable at w }|
     inc_count net D M = |{ w in M^W : f differentiable at w, AD_D f(w) <> grad f(w) }|
     ns_count net D M = |{ w in M^W : NS(w) }|
   (QDecide.v; M^W is Counting.v's [words M W]).  `make check-proofs` exports
   these numbers to report/proof-status.json ("certified"). *)

Theorem certified_relu_1_1 :
  ndf_count net_relu_1_1 M_fp_2_2 = 11%nat /\
  ndf_count net_relu_1_1 M_e2m1 = 15%nat /\
  ndf_count net_relu_1_1 M_list_m1_0_1 = 3%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_relu_1_1_fp_2_2) |
    exact (proj1 Certified.tally_relu_1_1_e2m1) |
    exact (proj1 Certified.tally_relu_1_1_list_m1_0_1)].
Qed.

Theorem certified_relu_1_2_1 :
  ndf_count net_relu_1_2_1 M_list_m1_0_1 = 864%nat.
Proof. exact (proj1 Certified.tally_relu_1_2_1_list_m1_0_1). Qed.

Theorem certified_leaky_1_2_1 :
  ndf_count net_leaky_1_2_1 M_list_m1_0_1 = 864%nat.
Proof. exact (proj1 Certified.tally_leaky_1_2_1_list_m1_0_1). Qed.

Theorem certified_hardtanh_2_2_1 :
  ndf_count net_hardtanh_2_2_1 M_list_m1_0_1 = 3696%nat.
Proof. exact (proj1 Certified.tally_hardtanh_2_2_1_list_m1_0_1). Qed.

Theorem certified_tight_relu_2_v :
  ndf_count net_tight_relu_2_v M_list_m1_0_1 = 96%nat.
Proof. exact (proj1 Certified.tally_tight_relu_2_v_list_m1_0_1). Qed.

Theorem certified_tight_relu_1 :
  ndf_count net_tight_relu_1 M_fp_2_2 = 1%nat /\
  ndf_count net_tight_relu_1 M_e2m1 = 1%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_relu_1_fp_2_2) |
    exact (proj1 Certified.tally_tight_relu_1_e2m1)].
Qed.

Theorem certified_tight_relu_2 :
  ndf_count net_tight_relu_2 M_fp_2_2 = 21%nat /\
  ndf_count net_tight_relu_2 M_e2m1 = 29%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_relu_2_fp_2_2) |
    exact (proj1 Certified.tally_tight_relu_2_e2m1)].
Qed.

Theorem certified_tight_relu_3 :
  ndf_count net_tight_relu_3 M_fp_2_2 = 331%nat /\
  ndf_count net_tight_relu_3 M_e2m1 = 631%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_relu_3_fp_2_2) |
    exact (proj1 Certified.tally_tight_relu_3_e2m1)].
Qed.

Theorem certified_tight_hardtanh_2 :
  ndf_count net_tight_hardtanh_2 M_fp_2_2 = 40%nat /\
  ndf_count net_tight_hardtanh_2 M_e2m1 = 56%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_hardtanh_2_fp_2_2) |
    exact (proj1 Certified.tally_tight_hardtanh_2_e2m1)].
Qed.

Theorem certified_tight_hardtanh_3 :
  ndf_count net_tight_hardtanh_3 M_fp_2_2 = 602%nat /\
  ndf_count net_tight_hardtanh_3 M_e2m1 = 1178%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_hardtanh_3_fp_2_2) |
    exact (proj1 Certified.tally_tight_hardtanh_3_e2m1)].
Qed.

(* T5(a): non-differentiable points, points where AD is wrong although f is
   differentiable (inc), and NS points; NS over-counts ndf here (no biases) *)
Theorem certified_t5a :
  ndf_count net_t5a M_list_m1_0_1 = 14%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_list_m1_0_1 = 2%nat /\
  ns_count net_t5a (spec_torch spec_t5a) M_list_m1_0_1 = 19%nat /\
  ndf_count net_t5a M_fp_2_2 = 310%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_fp_2_2 = 10%nat /\
  ns_count net_t5a (spec_torch spec_t5a) M_fp_2_2 = 331%nat /\
  ndf_count net_t5a M_e2m1 = 602%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_e2m1 = 14%nat /\
  ns_count net_t5a (spec_torch spec_t5a) M_e2m1 = 631%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_t5a_list_m1_0_1) |
    exact (proj2 Certified.tally_t5a_list_m1_0_1) |
    exact Certified.ns_t5a_list_m1_0_1 |
    exact (proj1 Certified.tally_t5a_fp_2_2) |
    exact (proj2 Certified.tally_t5a_fp_2_2) |
    exact Certified.ns_t5a_fp_2_2 |
    exact (proj1 Certified.tally_t5a_e2m1) |
    exact (proj2 Certified.tally_t5a_e2m1) |
    exact Certified.ns_t5a_e2m1].
Qed.

End CertifiedNumbers.
(* ==== Issue 10, item 7: networks with a C1 output ======================== *)
(* C1Output.v: the output g is any C1 function of the parameters and the neuron
   outputs, given on the packed (w, z) in R^(W+N) with its gradient
   (differentiable everywhere, gradient continuous): c1_network = neurons +
   C1 output; c1_eval cn w = g(w, z(w)); ad_c1 / zbar_c1 / NS_c1 are AD, the
   adjoints and NS with dg/dw, dg/dz_k in place of the symbolic derivatives
   (C1Output.ad_c1_eq, zbar_c1_eq).  wf_neurons: the neurons of Network.wf;
   bias_neurons: every neuron has its own bias (g may use every parameter). *)
From ADCorrect Require Import C1Output C1Instance T4C1.
From ADCorrect Require C1Theorems.

(* A polynomial-output network is an instance: same function, same AD, same NS. *)
Theorem C1_instance_polynomial (net : network) (Hwf : wf net) (D : nat -> R) (w : vec) :
  c1_eval (c1_of_net net Hwf) w = net_eval net w /\
  (forall p, (p < n_params net)%nat -> ad_c1 (c1_of_net net Hwf) D w p = ad net D w p) /\
  (NS_c1 (c1_of_net net Hwf) D w <-> NS net D w).
Proof.
  split; [apply c1_of_net_eval|]; split; [intros p Hp; now apply ad_c1_of_net | apply NS_c1_of_net].
Qed.

(* T1 for C1 outputs: AD_D f(w) is the gradient wherever f is differentiable. *)
Theorem T1_ad_correct_C1 (cn : c1_network) (D : nat -> R) (w g : vec) :
  wf_neurons (cn_net cn) -> bias_neurons (cn_net cn) ->
  differentiable_at (n_params (cn_net cn)) (c1_eval cn) w g ->
  forall p, (p < n_params (cn_net cn))%nat -> ad_c1 cn D w p = g p.
Proof. intros Hwf Hb; exact (C1Theorems.T1_c1_ad_correct cn Hwf Hb D w g). Qed.

(* T3 for C1 outputs: f is not differentiable at w iff NS(w), for every D. *)
Theorem T3_ndf_iff_NS_C1 (cn : c1_network) (D : nat -> R) (w : vec) :
  wf_neurons (cn_net cn) -> bias_neurons (cn_net cn) ->
  (~ differentiable (n_params (cn_net cn)) (c1_eval cn) w <-> NS_c1 cn D w).
Proof. intros Hwf Hb; exact (C1Theorems.T3_c1_ndf_iff_NS cn Hwf Hb D w). Qed.

(* T5(b) for C1 outputs, every network: not NS(w) => differentiable with
   gradient AD_D f(w). *)
Theorem T5b_not_NS_differentiable_C1 (cn : c1_network) (D : nat -> R) (w : vec) :
  wf_neurons (cn_net cn) -> ~ NS_c1 cn D w ->
  differentiable_at (n_params (cn_net cn)) (c1_eval cn) w (ad_c1 cn D w).
Proof. intros Hwf; exact (C1Theorems.T5b_c1_not_NS_differentiable cn Hwf D w). Qed.

(* T5(c) for C1 outputs: NS(w) => not differentiable when the topmost kink
   neuron with a non-zero adjoint is perturbable (perturbable is read in
   net_lin cn w, whose neurons are those of cn). *)
Theorem T5c_NS_not_differentiable_C1 (cn : c1_network) (D : nat -> R) (w : vec) :
  wf_neurons (cn_net cn) -> NS_c1 cn D w ->
  (forall k, In k (kink_neurons (cn_net cn) w) -> zbar_c1 cn D w k <> 0 ->
     (forall j, In j (kink_neurons (cn_net cn) w) -> (k < j)%nat -> zbar_c1 cn D w j = 0) ->
     perturbable (net_lin cn w) w k) ->
  ~ differentiable (n_params (cn_net cn)) (c1_eval cn) w.
Proof. intros Hwf; exact (C1Theorems.T5c_c1_NS_not_differentiable cn Hwf D w). Qed.

(* T4 for C1 outputs: with D k between the one-sided slopes at every kink
   neuron, AD_D f(w) is in the Clarke subdifferential of f at w. *)
Theorem T4_ad_in_clarke_C1 (cn : c1_network) (D : nat -> R) (w : vec) :
  wf_neurons (cn_net cn) -> bias_neurons (cn_net cn) ->
  (forall k, In k (kink_neurons (cn_net cn) w) ->
     Rmin (slope_left (sigma (cn_net cn) k) (preact (cn_net cn) w k))
          (slope_right (sigma (cn_net cn) k) (preact (cn_net cn) w k)) <= D k <=
     Rmax (slope_left (sigma (cn_net cn) k) (preact (cn_net cn) w k))
          (slope_right (sigma (cn_net cn) k) (preact (cn_net cn) w k))) ->
  in_clarke_fun (n_params (cn_net cn)) (c1_eval cn) w (ad_c1 cn D w).
Proof. exact (T4C1.T4_c1_ad_in_clarke cn D w). Qed.

(* ==== Issue 10, item 8: mini-batch networks (THEORY.md 8.1) =============== *)
(* Batch.v: batch_neurons net B xs has the copies (k, i) of the neurons of net
   for the inputs xs 0 .. xs (B-1), sharing the parameters (copy (k, i) is
   neuron i * N + k); batch_net adds a C1 loss of all copies' outputs;
   batch_bias: each base neuron k has one bias parameter, exclusive with
   coefficient 1 for every input of the batch. *)
From ADCorrect Require Import Batch T6.

(* |ndf_M(L)| <= B n |M|^(W-1), n = sum_k |ndf(sigma_k)| of the base network. *)
Theorem T6_batch_count_bound (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (M : list R) :
  wf_neurons net -> batch_bias net B xs -> NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (c1_eval (batch_net net B xs loss)) (word_vec u))
     (words M (n_params net))
   <= B * kink_total net * length M ^ (n_params net - 1))%nat.
Proof. intros Hwf Hb HM; exact (T6.T6_batch_count_bound net B xs loss Hwf Hb M HM). Qed.

(* T6 as conjectured in THEORY.md 8.1 is false: for every activation a and
   choice function Da whose "theta" (Da c = a'_-(c) + theta (a'_+(c) - a'_-(c)))
   differs at two kinks c1, c2, the batched bias network with one neuron
   y = b + x, batch x = c1, c2 and a linear loss is differentiable at b = 0
   while AD with that choice is not its derivative. *)
Theorem T6_needs_theta_uniform (a : activation) (Da : R -> R) (c1 c2 : R) :
  is_kink a c1 -> is_kink a c2 -> theta_of a (Da c1) c1 <> theta_of a (Da c2) c2 ->
  exists zeta g,
    batch_bias (T6_base a) 2 (T6_xs c1 c2) /\ wf (T6_net a c1 c2 zeta) /\
    differentiable_at 1 (net_eval (T6_net a c1 c2 zeta)) vzero g /\
    ad (T6_net a c1 c2 zeta) (fun c => Da (preact (T6_net a c1 c2 zeta) vzero c)) vzero 0 <> g 0%nat.
Proof. exact (T6.T6_needs_theta_uniform a Da c1 c2). Qed.

(* The concrete counterexample of t6.md: hardtanh, PyTorch's choice 0 at both
   kinks, batch x = -1, 1, L(b) = hardtanh(b - 1) + hardtanh(b + 1): L is
   differentiable at 0 with L'(0) = 1, both copies are kinked, AD gives 0. *)
Theorem T6_fails_multi_kink :
  let bn := T6_net hardtanh (-1) 1 (fun _ => 1) in
  batch_bias (T6_base hardtanh) 2 (T6_xs (-1) 1) /\ wf bn /\
  (forall b, net_eval bn (upd vzero 0 b) = act_eval hardtanh (b - 1) + act_eval hardtanh (b + 1)) /\
  differentiable_at 1 (net_eval bn) vzero (fun _ => 1) /\
  (forall c, In c (kink_neurons bn vzero) <-> (c < 2)%nat) /\
  ad bn (fun _ => 0) vzero 0 = 0.
Proof. exact T6.T6_fails_multi_kink. Qed.

(* ---- The corrected T6 ---------------------------------------------------- *)
From ADCorrect Require Import Tangent T6Tangent T6Correct.

(* THEORY.md section 7 as a theorem: for every well-formed network, f is
   differentiable at w iff the tangent network phi_w (forward mode with the
   one-sided slopes sigma'_-(y_k) for negative and sigma'_+(y_k) for
   non-negative incoming tangents) is linear, phi_w(h) = G . h; G is then the
   gradient.  This is the exact N&S condition for differentiability, for
   batched networks too (for a C1 loss apply it to net_lin, C1Output.v). *)
Theorem differentiable_iff_tangent_linear (net : network) (w : vec) :
  wf net ->
  (differentiable (n_params net) (net_eval net) w <->
   exists G, forall h, supported (n_params net) h ->
     tout (tnet_of net w) (hat (tnet_of net w)) h = dot (n_params net) G h).
Proof. intros Hwf; exact (Tangent.tangent_linear_iff_differentiable net w Hwf). Qed.

(* T6, corrected: batched bias network, C1 loss, a choice function Dk k per
   base neuron k that is theta-uniform for sigma_k (one theta for all kinks:
   D = left slope, D = right slope, any D for one-kink activations such as
   relu, leaky_relu, abs).  Wherever L is differentiable, AD = grad L. *)
Theorem T6_batch_ad_correct (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (Dk : nat -> R -> R) (w g : vec) :
  wf_neurons net -> batch_bias net B xs ->
  (forall k, (k < n_size net)%nat -> theta_uniform (sigma net k) (Dk k)) ->
  differentiable_at (n_params net) (c1_eval (batch_net net B xs loss)) w g ->
  forall p, (p < n_params net)%nat ->
    ad_c1 (batch_net net B xs loss)
      (fun c => Dk (c mod n_size net) (preact (batch_neurons net B xs) w c)) w p = g p.
Proof. intros Hwf Hb; exact (T6Correct.T6_batch_ad_correct net B xs loss Hwf Hb Dk w g). Qed.

(* For activations with at most one kink, every choice. *)
Theorem T6_batch_ad_correct_one_kink (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (Dk : nat -> R -> R) (w g : vec) :
  wf_neurons net -> batch_bias net B xs ->
  (forall k, (k < n_size net)%nat -> forall c c', is_kink (sigma net k) c -> is_kink (sigma net k) c' -> c = c') ->
  differentiable_at (n_params net) (c1_eval (batch_net net B xs loss)) w g ->
  forall p, (p < n_params net)%nat ->
    ad_c1 (batch_net net B xs loss)
      (fun c => Dk (c mod n_size net) (preact (batch_neurons net B xs) w c)) w p = g p.
Proof. intros Hwf Hb; exact (T6Correct.T6_batch_ad_correct_one_kink net B xs loss Hwf Hb Dk w g). Qed.

(* The exact condition on the choice: T6 holds for every batched bias network
   built from an activation a with the choice function Da iff Da is
   theta-uniform on the kinks of a. *)
Theorem T6_iff_theta_uniform (a : activation) (Da : R -> R) :
  theta_uniform a Da <->
  (forall (net : network) (B : nat) (xs : nat -> nat -> R)
          (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (w g : vec),
     wf_neurons net -> batch_bias net B xs -> (forall k, (k < n_size net)%nat -> sigma net k = a) ->
     differentiable_at (n_params net) (c1_eval (batch_net net B xs loss)) w g ->
     forall p, (p < n_params net)%nat ->
       ad_c1 (batch_net net B xs loss) (fun c => Da (preact (batch_neurons net B xs) w c)) w p = g p).
Proof. exact (T6Correct.T6_iff_theta_uniform a Da). Qed.

(* ---- Losses as C1 outputs (C1Losses.v) ----------------------------------- *)
From ADCorrect Require Import C1Losses.

(* Softmax cross-entropy over the logit neurons ls with targets y is a C1
   output: g(w, z) = ln (sum_(j in ls) e^(z_j)) - sum_(j in ls) y_j z_j, with
   dg/dw = 0 and dg/dz_k = softmax_k(z) - y_k (0 off the logits).  Sums and
   scalings of C1 outputs are C1 outputs (c1_plus, c1_scal), so the mean
   cross-entropy of a mini-batch is one; polynomial losses (MSE) are covered by
   C1_instance_polynomial. *)
Theorem C1_instance_cross_entropy (W N : nat) (ls : list nat) (y : nat -> R)
  (Hls : ls <> []) (Hlt : forall j, In j ls -> (j < N)%nat) (w z : vec) :
  NoDup ls ->
  c1_g (ce_output W N ls y Hls Hlt) (pack W w z) =
    ln (sum_list (map (fun j => exp (z j)) ls)) - sum_list (map (fun j => y j * z j) ls) /\
  (forall p, (p < W)%nat -> c1_dg (ce_output W N ls y Hls Hlt) (pack W w z) p = 0) /\
  (forall k, In k ls -> c1_dg (ce_output W N ls y Hls Hlt) (pack W w z) (W + k)%nat =
     exp (z k) / sum_list (map (fun j => exp (z j)) ls) - y k) /\
  (forall k, ~ In k ls -> c1_dg (ce_output W N ls y Hls Hlt) (pack W w z) (W + k)%nat = 0).
Proof.
  intros Hnd; split; [apply ce_output_value|]; split; [intros; now apply ce_output_dw|].
  split; [intros; now apply ce_output_dz | intros; now apply ce_output_dz_other].
Qed.

(* The exact N&S condition for differentiability of a batched bias network,
   recursively on its tangent network (with differentiable_iff_tangent_linear
   and C1Output.c1_differentiable_iff this decides differentiability of L at
   w).  m is the topmost base neuron with a kinked copy (no copy above m is
   kinked), kappa c = zeta_c (sigma'_+ - sigma'_-)(y_c) for the copies c of m,
   zeta_c = Lam (e_c) the output's coefficient of z_c (its adjoint): phi_w is
   linear with gradient G iff the tangent network with the copies of m on
   their left slopes is, and in every direction v, for every value tau, the
   kappa_c of the copies of m whose tangent y_c(v) equals tau sum to 0. *)
Theorem T6_differentiable_iff_groups (base bias : nat -> nat) (T : tnet) (m c0 : nat) (G : vec) :
  batched_tnet base bias T -> (c0 < t_N T)%nat -> base c0 = m ->
  (forall c, (c < t_N T)%nat -> (m < base c)%nat -> t_sl T c = t_sr T c) ->
  (tlinear T (hat T) G <->
   tlinear (left_tnet base T m) (hat (left_tnet base T m)) G /\
   (forall v, supported (t_W T) v -> forall tau,
      sumn (t_N T) (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa base T m c else 0) = 0)).
Proof. intros HT Hc0 Hm Hup; exact (T6Tangent.topmost_linear_iff_groups base bias T m c0 HT Hc0 Hm Hup G). Qed.

(* The two links used above: a C1 network is differentiable at w iff its
   output linearised at w is (gradients differ by dg/dw) ... *)
Theorem C1_differentiable_iff_linearised (cn : c1_network) (w G : vec) :
  wf_neurons (cn_net cn) ->
  (differentiable_at (n_params (cn_net cn)) (c1_eval cn) w G <->
   differentiable_at (n_params (cn_net cn)) (net_eval (net_lin cn w)) w (fun p => G p - dgw cn w p)).
Proof. intros Hwf; exact (c1_differentiable_at_iff cn Hwf w G). Qed.

(* ... and the tangent network of a batched bias network is a batched tangent
   network (base c = c mod N; the direction of the bias of base neuron k moves
   exactly the copies of k, with coefficient 1). *)
Theorem T6_batch_tangent_is_batched (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (w : vec) :
  wf_neurons net -> batch_bias net B xs ->
  exists bias, batched_tnet (fun c => c mod n_size net) bias (tnet_of (net_lin (batch_net net B xs loss) w) w).
Proof. exact (T6Correct.batch_tangent_batched net B xs loss w). Qed.

(* AD for a C1 output is THEORY.md section 4's recursion with g's partial
   derivatives at (w, z(w)) in place of the symbolic ones (dgz = dg/dz_k,
   dgw = dg/dw_p): these equations determine zbar_c1, ybar_c1 and ad_c1. *)
Theorem C1_ad_equations (cn : c1_network) (D : nat -> R) (w : vec) (k p : nat) :
  (k < n_size (cn_net cn))%nat ->
  zbar_c1 cn D w k = dgz cn w k +
    sum_list (map (fun j => ybar_c1 cn D w j *
                            eval (n_input (cn_net cn)) w (zvec (cn_net cn) w) (dneuron k (tau (cn_net cn) j)))
                  (seq (S k) (n_size (cn_net cn) - S k))) /\
  ybar_c1 cn D w k = zbar_c1 cn D w k * dchoice (cn_net cn) D w k /\
  ad_c1 cn D w p = dgw cn w p +
    sum_list (map (fun j => ybar_c1 cn D w j *
                            eval (n_input (cn_net cn)) w (zvec (cn_net cn) w) (dparam p (tau (cn_net cn) j)))
                  (seq 0 (n_size (cn_net cn)))).
Proof.
  intros Hk; split; [now apply zbar_c1_eq|]; split; [now apply ybar_c1_eq | apply ad_c1_eq].
Qed.

(* ==== Issue 18, item 1: tied-bias networks (T7) ==== *)
(* Tied.v: tied_bias net cls bias: neuron c has class cls c; a neuron reads
   only neurons of lower classes (classes_ordered); for every neuron whose
   activation has a kink, the parameter bias (cls c) enters each neuron of
   its class with coefficient 1 (tau = w_p + r, p not in r) and no neuron of
   another class (class_bias).  The C1 output may use every parameter. *)
From ADCorrect Require Import Tied T7Tangent T7Correct T7Batch T7Recurrent.

(* T7: for a tied-bias network with well-formed neurons and a C1 output, and
   a choice function Dn c per neuron that is theta-uniform per class (at
   every kink y of sigma_c, Dn c y = sigma_c'_-(y) + theta_(cls c)
   (sigma_c'_+(y) - sigma_c'_-(y)), one theta per class), AD equals the
   gradient wherever the output is differentiable. *)
Theorem T7_tied_ad_correct (cn : c1_network) (cls bias : nat -> nat) (theta : nat -> R)
  (Dn : nat -> R -> R) (w g : vec) :
  wf_neurons (cn_net cn) -> tied_bias (cn_net cn) cls bias ->
  (forall c y, (c < n_size (cn_net cn))%nat -> is_kink (sigma (cn_net cn) c) y ->
     Dn c y = slope_left (sigma (cn_net cn) c) y +
              theta (cls c) * (slope_right (sigma (cn_net cn) c) y - slope_left (sigma (cn_net cn) c) y)) ->
  differentiable_at (n_params (cn_net cn)) (c1_eval cn) w g ->
  forall p, (p < n_params (cn_net cn))%nat ->
    ad_c1 cn (fun c => Dn c (preact (cn_net cn) w c)) w p = g p.
Proof. intros Hwf Ht; exact (T7Correct.T7_tied_ad_correct cn cls bias Hwf Ht theta Dn w g). Qed.

(* The count bound: for a tied-bias network with well-formed neurons and a C1
   output, and a duplicate-free M, the number of machine points where the
   output is not differentiable is at most n |M|^(W-1), n = the number of
   kinks summed over all neurons (kink_total).  No condition on choices. *)
Theorem T7_tied_count_bound (cn : c1_network) (cls bias : nat -> nat) (M : list R) :
  wf_neurons (cn_net cn) -> tied_bias (cn_net cn) cls bias -> NoDup M ->
  (count (fun u => ~ differentiable (n_params (cn_net cn)) (c1_eval cn) (word_vec u))
     (words M (n_params (cn_net cn)))
   <= kink_total (cn_net cn) * length M ^ (n_params (cn_net cn) - 1))%nat.
Proof. intros Hwf Ht HM; exact (T7Correct.T7_tied_count_bound cn cls bias Hwf Ht M HM). Qed.

(* The tangent network of a well-formed tied-bias network at any w is a
   tied tangent network (class cls, the class biases as directions). *)
Theorem T7_tangent_is_tied (net : network) (cls bias : nat -> nat) (w : vec) :
  wf net -> tied_bias net cls bias -> tied_tnet cls bias (tnet_of net w).
Proof. intros Hwf Ht; exact (T7Correct.tnet_of_tied net cls bias w Hwf Ht). Qed.

(* The exact N&S condition for tied tangent networks (T6_differentiable_iff_groups
   with biases required of the kinked classes only): m the topmost class with
   a kinked neuron c0 (no neuron of a higher class is kinked); phi_w is linear
   with gradient G iff the network with the neurons of class m on their left
   slopes is, and in every direction v, for every value tau, the kappa_c of
   the neurons c of class m whose tangent y_c(v) equals tau sum to 0. *)
Theorem T7_tied_differentiable_iff_groups (base bias : nat -> nat) (T : tnet) (m c0 : nat) (G : vec) :
  tied_tnet base bias T -> (c0 < t_N T)%nat -> base c0 = m -> t_sl T c0 <> t_sr T c0 ->
  (forall c, (c < t_N T)%nat -> (m < base c)%nat -> t_sl T c = t_sr T c) ->
  (tlinear T (hat T) G <->
   tlinear (left_tnet base T m) (hat (left_tnet base T m)) G /\
   (forall v, supported (t_W T) v -> forall tau,
      sumn (t_N T) (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa base T m c else 0) = 0)).
Proof.
  intros HT Hc0 Hm Hk0 Hup;
    exact (T7Tangent.topmost_linear_iff_groups_tied base bias T m c0 HT Hc0 Hm Hk0 Hup G).
Qed.

(* The tangent-level T7: a tied tangent network that is linear with
   gradient G stays linear with gradient G when every neuron c takes the
   linear slope sl_c + theta_(base c) (sr_c - sl_c). *)
Theorem T7_tied_tangent (base bias : nat -> nat) (theta : nat -> R) (T : tnet) (G : vec) :
  tied_tnet base bias T -> tlinear T (hat T) G -> tlinear T (lin (theta_slopes base theta T)) G.
Proof. exact (T7Tangent.tied_tangent_T7 base bias theta T G). Qed.

(* A batched bias network (well-formed base neurons, batch_bias) is a
   tied-bias network whose class of copy c is its base neuron c mod N. *)
Theorem T6_batch_is_tied (net : network) (B : nat) (xs : nat -> nat -> R) :
  wf_neurons net -> batch_bias net B xs ->
  exists bias, tied_bias (batch_neurons net B xs) (fun c => c mod n_size net) bias.
Proof. exact (T7Batch.T6_batch_is_tied net B xs). Qed.

(* A batch of a tied-bias network (tied for every input of the batch, same
   classes and biases) is a tied-bias network; copy c has class cls (c mod N). *)
Theorem T7_batch_tied (net : network) (B : nat) (xs : nat -> nat -> R) (cls bias : nat -> nat) :
  wf_neurons net -> (forall i, (i < B)%nat -> tied_bias (base_at net (xs i)) cls bias) ->
  tied_bias (batch_neurons net B xs) (fun c => cls (c mod n_size net)) bias.
Proof. exact (T7Batch.batch_tied net B xs cls bias). Qed.

(* T6 as a corollary of T7 (same statement as T6_batch_ad_correct, proved
   through T6_batch_is_tied and T7_tied_ad_correct). *)
Theorem T6_batch_ad_correct_via_T7 (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (Dk : nat -> R -> R) (w g : vec) :
  wf_neurons net -> batch_bias net B xs ->
  (forall k, (k < n_size net)%nat -> theta_uniform (sigma net k) (Dk k)) ->
  differentiable_at (n_params net) (c1_eval (batch_net net B xs loss)) w g ->
  forall p, (p < n_params net)%nat ->
    ad_c1 (batch_net net B xs loss)
      (fun c => Dk (c mod n_size net) (preact (batch_neurons net B xs) w c)) w p = g p.
Proof. intros Hwf Hb; exact (T7Batch.T6_batch_ad_correct_via_T7 net B xs loss Hwf Hb Dk w g). Qed.

(* The batched count bound as a corollary of T7_tied_count_bound. *)
Theorem T6_batch_count_bound_via_T7 (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (M : list R) :
  wf_neurons net -> batch_bias net B xs -> NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (c1_eval (batch_net net B xs loss)) (word_vec u))
     (words M (n_params net))
   <= B * kink_total net * length M ^ (n_params net - 1))%nat.
Proof. intros Hwf Hb HM; exact (T7Batch.T6_batch_count_bound_via_T7 net B xs loss Hwf Hb M HM). Qed.

(* Ordered classes are needed: the two-step relu RNN h1 = relu(b),
   h2 = relu(u h1 + b), f = h2 has one class whose bias b enters both
   neurons with coefficient 1 and nothing else, but h2 reads h1 of its own
   class; at (b, u) = (0, -1) f is differentiable with gradient 0, while AD
   with the theta-uniform choice relu'(0) = 1/2 gives df/db = 1/4. *)
Theorem T7_recurrent_fails :
  wf rnn2 /\ class_bias rnn2 (fun _ => 0%nat) 0 0 /\ ~ classes_ordered rnn2 (fun _ => 0%nat) /\
  (forall c y, is_kink (sigma rnn2 c) y ->
     1 / 2 = slope_left (sigma rnn2 c) y + 1 / 2 * (slope_right (sigma rnn2 c) y - slope_left (sigma rnn2 c) y)) /\
  differentiable_at 2 (net_eval rnn2) rnn2_w0 vzero /\
  ad rnn2 (fun _ => 1 / 2) rnn2_w0 0 = 1 / 4.
Proof. exact T7Recurrent.T7_recurrent_fails. Qed.

(* A 1-d convolution layer with bias (Conv.v: C_in input channels of length
   len, C_out output channels, kernel size K, stride s, zero padding pad,
   olen output positions, output neuron (o, i) = neuron o * olen + i computing
   y = b_o + sum_(ci, k) W[o][ci][k] xpad_ci(i s + k), then the activation)
   has well-formed neurons and is a tied-bias network: the class of neuron c
   is its channel c / olen, whose bias is b_o (parameter C_out C_in K + o). *)
From ADCorrect Require Import Conv.
Theorem T7_conv_is_tied (cv : conv1d) (x : nat -> R) :
  wf_neurons (conv_net cv x) /\
  tied_bias (conv_net cv x) (fun c => (c / cv_olen cv)%nat) (conv_bidx cv) /\
  (forall w c, (c < cv_cout cv * cv_olen cv)%nat ->
     preact (conv_net cv x) w c = w (conv_bidx cv (c / cv_olen cv)) +
       eval x w (zvals (conv_net cv x) w c)
         (fold_right EAdd (EConst 0) (conv_terms cv (c / cv_olen cv) (c mod cv_olen cv)))).
Proof.
  split; [exact (Conv.conv_wf cv x)|]; split; [exact (Conv.conv_is_tied cv x)|].
  intros w c Hc; exact (Conv.conv_preact cv x w c Hc).
Qed.

(* A batch of such layers (copies for inputs xs 0 .. xs (B-1)) is a tied-bias
   network: the class of copy c is the channel of its base neuron. *)
Theorem T7_conv_batch_is_tied (cv : conv1d) (x0 : nat -> R) (B : nat) (xs : nat -> nat -> R) :
  tied_bias (batch_neurons (conv_net cv x0) B xs)
    (fun c => ((c mod n_size (conv_net cv x0)) / cv_olen cv)%nat) (conv_bidx cv).
Proof. exact (Conv.conv_batch_is_tied cv x0 B xs). Qed.

(* A 2-d convolution layer with bias (Conv2d.v: C_in input channels of
   H x Wd pixels, C_out output channels, kernel kh x kw, strides sh, sw, zero
   paddings ph, pw, oh x ow output positions; output neuron (o, i, j) =
   neuron o (oh ow) + i ow + j computes
   y = b_o + sum_(ci, a, b) W[o][ci][a][b] xpad_ci(i sh + a, j sw + b), then
   the activation) has well-formed neurons and is a tied-bias network: the
   class of neuron c is its channel c / (oh ow), whose bias is b_o. *)
From ADCorrect Require Import Conv2d.
Theorem T7_conv2d_is_tied (cv : conv2d) (x : nat -> R) :
  wf_neurons (conv2d_net cv x) /\
  tied_bias (conv2d_net cv x) (fun c => (c / (c2_oh cv * c2_ow cv))%nat) (conv2d_bidx cv) /\
  (forall w c, (c < c2_cout cv * (c2_oh cv * c2_ow cv))%nat ->
     preact (conv2d_net cv x) w c = w (conv2d_bidx cv (c / (c2_oh cv * c2_ow cv))) +
       eval x w (zvals (conv2d_net cv x) w c)
         (fold_right EAdd (EConst 0)
            (conv2d_terms cv (c / (c2_oh cv * c2_ow cv)) ((c mod (c2_oh cv * c2_ow cv)) / c2_ow cv)
               ((c mod (c2_oh cv * c2_ow cv)) mod c2_ow cv)))).
Proof.
  split; [exact (Conv2d.conv2d_wf cv x)|]; split; [exact (Conv2d.conv2d_is_tied cv x)|].
  intros w c Hc; exact (Conv2d.conv2d_preact cv x w c Hc).
Qed.

(* A batch of such layers is a tied-bias network: the class of copy c is the
   channel of its base neuron. *)
Theorem T7_conv2d_batch_is_tied (cv : conv2d) (x0 : nat -> R) (B : nat) (xs : nat -> nat -> R) :
  tied_bias (batch_neurons (conv2d_net cv x0) B xs)
    (fun c => ((c mod n_size (conv2d_net cv x0)) / (c2_oh cv * c2_ow cv))%nat) (conv2d_bidx cv).
Proof. exact (Conv2d.conv2d_batch_is_tied cv x0 B xs). Qed.

(* Non-vacuity: one channel, a 2 x 2 image, a 2 x 2 kernel, stride 2,
   padding 1 give 2 x 2 outputs; the top-left output reads only pixel (0, 0)
   through the kernel's bottom-right entry w 3, the bottom-right output only
   pixel (1, 1) through the top-left entry w 0; all share the bias w 4. *)
Theorem T7_conv2d_example (a : activation) (x : nat -> R) (w : vec) :
  c2_oh (conv2d_ex a) = 2%nat /\ n_size (conv2d_net (conv2d_ex a) x) = 4%nat /\
  preact (conv2d_net (conv2d_ex a) x) w 0 = w 4%nat + w 3%nat * x 0%nat /\
  preact (conv2d_net (conv2d_ex a) x) w 3 = w 4%nat + w 0%nat * x 3%nat /\
  tied_bias (conv2d_net (conv2d_ex a) x) (fun c => (c / 4)%nat) (conv2d_bidx (conv2d_ex a)).
Proof. exact (Conv2d.conv2d_example a x w). Qed.

(* Theta-uniformity per class is needed: for every activation a and choice
   function Da whose theta differs at two kinks c1, c2, T6's counterexample
   (one class of two neurons y = b + c1, y = b + c2 with the common bias b,
   linear loss) is a tied-bias network, differentiable at b = 0, where AD
   with that choice is not the derivative. *)
Theorem T7_needs_theta_uniform (a : activation) (Da : R -> R) (c1 c2 : R) :
  is_kink a c1 -> is_kink a c2 -> theta_of a (Da c1) c1 <> theta_of a (Da c2) c2 ->
  exists zeta g bias,
    tied_bias (T6_net a c1 c2 zeta) (fun c => c mod 1) bias /\ wf (T6_net a c1 c2 zeta) /\
    differentiable_at 1 (net_eval (T6_net a c1 c2 zeta)) vzero g /\
    ad (T6_net a c1 c2 zeta) (fun c => Da (preact (T6_net a c1 c2 zeta) vzero c)) vzero 0 <> g 0%nat.
Proof. exact (T7Batch.T7_needs_theta_uniform a Da c1 c2). Qed.

(* T4 for tied-bias networks (the setting of T7_tied_ad_correct): for a
   tied-bias network with well-formed neurons and a C1 output, and a choice
   function Dn c that is theta-uniform per class with every theta_K in
   [0, 1], AD_D f(w) is in the Clarke subdifferential of f at w (a convex
   combination of limits of gradients at nearby points of
   differentiability).  AD is affine in each theta_K (a back-propagation
   path meets a class at most once), and each class vertex (all kinked
   neurons of a class on the left, or all on the right) is realised by
   moving the class biases, class by class. *)
From ADCorrect Require Import T7Clarke T7ClarkeC1.
Theorem T7_tied_ad_in_clarke (cn : c1_network) (cls bias : nat -> nat) (theta : nat -> R)
  (Dn : nat -> R -> R) (w : vec) :
  wf_neurons (cn_net cn) -> tied_bias (cn_net cn) cls bias -> (forall K, 0 <= theta K <= 1) ->
  (forall c y, (c < n_size (cn_net cn))%nat -> is_kink (sigma (cn_net cn) c) y ->
     Dn c y = slope_left (sigma (cn_net cn) c) y +
              theta (cls c) * (slope_right (sigma (cn_net cn) c) y - slope_left (sigma (cn_net cn) c) y)) ->
  in_clarke_fun (n_params (cn_net cn)) (c1_eval cn) w (ad_c1 cn (fun c => Dn c (preact (cn_net cn) w c)) w).
Proof. intros Hwf Ht; exact (T7ClarkeC1.T7_c1_tied_ad_in_clarke cn cls bias Hwf Ht theta Dn w). Qed.

(* The same for a network with a polynomial output (Clarke.v's in_clarke). *)
Theorem T7_tied_ad_in_clarke_net (net : network) (cls bias : nat -> nat) (theta : nat -> R)
  (Dn : nat -> R -> R) (w : vec) :
  wf net -> tied_bias net cls bias -> (forall K, 0 <= theta K <= 1) ->
  (forall c y, (c < n_size net)%nat -> is_kink (sigma net c) y ->
     Dn c y = slope_left (sigma net c) y +
              theta (cls c) * (slope_right (sigma net c) y - slope_left (sigma net c) y)) ->
  in_clarke net w (ad net (fun c => Dn c (preact net w c)) w).
Proof. intros Hwf Ht; exact (T7Clarke.T7_tied_ad_in_clarke net cls bias Hwf Ht theta Dn w). Qed.

(* T4 for batched bias networks (T6's setting, a corollary): with a choice
   Dk k per base neuron that is theta-uniform with theta in [0, 1], AD of the
   batched network is in the Clarke subdifferential of the batched loss. *)
Theorem T6_batch_ad_in_clarke (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (Dk : nat -> R -> R) (w : vec) :
  wf_neurons net -> batch_bias net B xs ->
  (forall k, (k < n_size net)%nat -> exists theta, 0 <= theta <= 1 /\
     forall c, is_kink (sigma net k) c ->
       Dk k c = slope_left (sigma net k) c + theta * (slope_right (sigma net k) c - slope_left (sigma net k) c)) ->
  in_clarke_fun (n_params net) (c1_eval (batch_net net B xs loss)) w
    (ad_c1 (batch_net net B xs loss) (fun c => Dk (c mod n_size net) (preact (batch_neurons net B xs) w c)) w).
Proof. intros Hwf Hb; exact (T7ClarkeC1.T6_batch_ad_in_clarke net B xs loss Hwf Hb Dk w). Qed.

(* The exact N&S condition at points where all kinked neurons lie in one
   class m (any tied-bias network: batches, convolutions, token-wise layers;
   in a batch, one base neuron carries all kinks).  Below m nothing is
   kinked, so the tangent of y_c in direction v is linear: a_c . v with
   a_c p = lin_form net w c p.  f is differentiable at w iff for every
   neuron c0 the weights kappa_c = zeta_c (sigma'_+ - sigma'_-)(y_c) of the
   neurons c of class m with a_c = a_c0 sum to 0 (single_class_groups;
   zeta_c the output's coefficient of z_c, T7Tangent.v). *)
From ADCorrect Require Import T7Single.
Theorem T7_single_class_differentiable_iff (net : network) (cls bias : nat -> nat) (w : vec) (m : nat) :
  wf net -> tied_bias net cls bias -> (forall c, In c (kink_neurons net w) -> cls c = m) ->
  (differentiable (n_params net) (net_eval net) w <->
   forall c0, (c0 < n_size net)%nat ->
     sumn (n_size net) (fun c => if forms_agree (lin_form net w) (seq 0 (n_params net)) c0 c
                                 then kappa cls (tnet_of net w) m c else 0) = 0).
Proof. intros Hwf Ht Hm; exact (T7Single.tied_single_class_iff net cls bias w Hwf Ht m Hm). Qed.

(* ... computed over Q (QTied.v): for a network over Q (qwf), tied-bias with
   classes cls, at a rational point u, qtied_test answers Some b exactly when
   the kinked neurons lie in one class, and then f is differentiable at u
   iff b = true (the forms a_c, zeta_c and kappa_c computed by forward passes
   of the tangent network over Q). *)
From ADCorrect Require QTied QTiedIndep T7Independent TiedExamples.
Section TiedTest.
Import QArith Qreals QNet QDecide QTied.
Open Scope R_scope.

Theorem computable_tied_differentiable_iff (n : qnet) (cls bias : nat -> nat) (u : list Q) (b : bool) :
  qwf n = true -> tied_bias (to_network n) cls bias -> qtied_test n cls u = Some b ->
  (differentiable (q_params n) (net_eval (to_network n)) (qpoint u) <-> b = true).
Proof. exact (QTied.qtied_test_correct n cls bias u b). Qed.

Theorem computable_tied_test_answers (n : qnet) (cls : nat -> nat) (u : list Q) :
  (exists b, qtied_test n cls u = Some b) <->
  (exists m, forall c, In c (kink_neurons (to_network n) (qpoint u)) -> cls c = m).
Proof. exact (QTied.qtied_test_some n cls u). Qed.

(* Non-vacuity (TiedExamples.v): two relu neurons of one class with the
   common bias w_0, output z_0 - z_1, at u = (0, 0) where both are on their
   kink.  With y_0 = y_1 = w_0 (equal forms) the kinks cancel: the test says
   Some true and f is differentiable; with y_0 = w_0, y_1 = w_0 + w_1
   (different forms) they do not: Some false, f not differentiable. *)
Theorem computable_tied_examples :
  qtied_test TiedExamples.tied_same (fun _ => 0%nat) TiedExamples.tied_u0 = Some true /\
  differentiable 2 (net_eval (to_network TiedExamples.tied_same)) (qpoint TiedExamples.tied_u0) /\
  qtied_test TiedExamples.tied_diff (fun _ => 0%nat) TiedExamples.tied_u0 = Some false /\
  ~ differentiable 2 (net_eval (to_network TiedExamples.tied_diff)) (qpoint TiedExamples.tied_u0).
Proof.
  destruct TiedExamples.tied_same_differentiable as [H1 H2];
    destruct TiedExamples.tied_diff_not_differentiable as [H3 H4]; tauto.
Qed.

(* Kinks in several classes, when they are independent (T7Independent.v:
   the tangent of every kinked neuron is its linear tangent, e.g. when it
   reads only neurons with no kinked ancestor): f is differentiable at w
   iff the single-class condition holds for every class m. *)
Theorem T7_independent_differentiable_iff (net : network) (cls bias : nat -> nat) (w : vec) :
  wf net -> tied_bias net cls bias -> T7Independent.kinks_independent (tnet_of net w) ->
  (differentiable (n_params net) (net_eval net) w <-> forall m, single_class_groups net cls w m).
Proof. intros Hwf Ht; exact (T7Independent.tied_independent_iff net cls bias w Hwf Ht). Qed.

(* ... computed over Q (QTiedIndep.v): qindep_test checks (by a pass over
   the coefficients) that every kinked neuron reads only neurons with no
   kinked ancestor, and then answers Some b with: differentiable iff b = true. *)
Theorem computable_tied_indep_differentiable_iff (n : qnet) (cls bias : nat -> nat) (u : list Q) (b : bool) :
  qwf n = true -> tied_bias (to_network n) cls bias -> QTiedIndep.qindep_test n cls u = Some b ->
  (differentiable (q_params n) (net_eval (to_network n)) (qpoint u) <-> b = true).
Proof. exact (QTiedIndep.qindep_test_correct n cls bias u b). Qed.

(* Non-vacuity: two classes of two relu neurons, all kinked at 0; the
   single-class test does not answer, the independent one decides both a
   differentiable output (kinks cancel in each class) and a non-differentiable
   one. *)
Theorem computable_tied_two_class_examples :
  qtied_test TiedExamples.two_class_cancel TiedExamples.two_cls TiedExamples.tied_u0 = None /\
  QTiedIndep.qindep_test TiedExamples.two_class_cancel TiedExamples.two_cls TiedExamples.tied_u0 = Some true /\
  differentiable 2 (net_eval (to_network TiedExamples.two_class_cancel)) (qpoint TiedExamples.tied_u0) /\
  QTiedIndep.qindep_test TiedExamples.two_class_kink TiedExamples.two_cls TiedExamples.tied_u0 = Some false /\
  ~ differentiable 2 (net_eval (to_network TiedExamples.two_class_kink)) (qpoint TiedExamples.tied_u0).
Proof. exact TiedExamples.two_class_examples. Qed.

End TiedTest.
(* ==== Issue 18, items 2 and 4: PyTorch's choice in dense networks; bridges ==== *)
From ADCorrect Require Import T6Boundary BatchMLP Dense T6DenseTangent T6DenseCorrect T6DenseFails NonVacuityDense C1BatchLosses.

(* The identity-skip counterexample: one hardtanh neuron
   h = hardtanh(w x1 + b + x2) (w = parameter 0, b = parameter 1), batch
   (x1, x2) = (1, -1), (1, 1), sum loss.  The batched network is well formed
   and a batched bias network; L(w, b) = hardtanh(w + b - 1) +
   hardtanh(w + b + 1) is differentiable at 0 with gradient (1, 1); both
   copies are on a kink; both copies have the same coefficient in every
   parameter (the same input row) but pre-activations -1 and 1; AD with
   PyTorch's hardtanh'(+-1) = 0 gives (0, 0). *)
Theorem T6_skip_counterexample :
  wf skip_net /\ batch_bias skip_base 2 skip_xs /\
  (forall v, net_eval skip_net v =
     act_eval hardtanh (v 0%nat + v 1%nat - 1) + act_eval hardtanh (v 0%nat + v 1%nat + 1)) /\
  differentiable_at 2 (net_eval skip_net) vzero (fun _ => 1) /\
  (forall c, In c (kink_neurons skip_net vzero) <-> (c < 2)%nat) /\
  (forall p, dw_coef skip_net vzero 0 p = dw_coef skip_net vzero 1 p) /\
  preact skip_net vzero 0 = -1 /\ preact skip_net vzero 1 = 1 /\
  ad skip_net (fun _ => 0) vzero 0 = 0 /\ ad skip_net (fun _ => 0) vzero 1 = 0.
Proof. exact T6Boundary.T6_skip_counterexample. Qed.

(* The frozen-weight counterexample: nn.Linear(1, 1) with its weight frozen
   at 1 (a constant coefficient) and trainable bias b (the only parameter),
   then hardtanh, batch x = -1, 1, sum loss.  The batched network is well
   formed and a batched bias network; as a function of b,
   L(b) = hardtanh(b - 1) + hardtanh(b + 1), differentiable at 0 with
   L'(0) = 1; both copies are on a kink; AD with hardtanh'(+-1) = 0 gives 0. *)
Theorem T6_frozen_counterexample :
  wf frozen_net /\ batch_bias frozen_base 2 frozen_xs /\
  (forall v, net_eval frozen_net v = act_eval hardtanh (v 0%nat - 1) + act_eval hardtanh (v 0%nat + 1)) /\
  differentiable_at 1 (net_eval frozen_net) vzero (fun _ => 1) /\
  (forall c, In c (kink_neurons frozen_net vzero) <-> (c < 2)%nat) /\
  ad frozen_net (fun _ => 0) vzero 0 = 0.
Proof. exact T6Boundary.T6_frozen_counterexample. Qed.

(* An MLP (MLP.v) with a bias on every layer, copied over any batch of
   inputs x_0 .. x_(B-1), is a batched bias network: every base neuron's
   bias is an exclusive coefficient-1 parameter for every input of the
   batch. *)
Theorem mlp_batch_bias (x0 : list R) (ls : list layer) (B : nat) (xs : nat -> nat -> R) :
  all_biased ls -> batch_bias (mlp x0 ls) B xs.
Proof. exact (BatchMLP.mlp_batch_bias x0 ls B xs). Qed.

(* T6 for every choice in dense networks: a batched bias network (well
   formed, every base neuron with a bias common to the batch) whose kinked
   base neurons (activation with at least one kink) are dense -- the
   pre-activation is linear in the parameters with parameter-free
   coefficients and no parameter-free term (tau_k = sum_q w_q s_q, e.g.
   b_k + sum_j w_kj s_j) and each of its parameters occurs in no other base
   neuron -- with any C1 loss.  For every choice D (a value per copy, no
   theta-uniformity) that gives copies of the same base neuron with the
   same pre-activation the same value, AD_D L = grad L wherever L is
   differentiable.  (The condition on D cannot be dropped:
   T6_dense_every_choice_fails; it holds for every choice
   function D(c) = D_k(y_c).) *)
Theorem T6_dense_every_choice (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (D : nat -> R) (w g : vec) :
  wf_neurons net -> batch_bias net B xs -> kinked_dense net ->
  (forall c c', (c < n_size (batch_neurons net B xs))%nat -> (c' < n_size (batch_neurons net B xs))%nat ->
     (c mod n_size net = c' mod n_size net)%nat ->
     preact (batch_neurons net B xs) w c = preact (batch_neurons net B xs) w c' -> D c = D c') ->
  differentiable_at (n_params net) (c1_eval (batch_net net B xs loss)) w g ->
  forall p, (p < n_params net)%nat -> ad_c1 (batch_net net B xs loss) D w p = g p.
Proof. intros Hwf Hb Hkd; exact (T6DenseCorrect.T6_dense_ad_correct net B xs loss Hwf Hb Hkd D w g). Qed.

(* The condition on D in T6_dense_every_choice cannot be dropped: one dense
   relu neuron relu(a x + b) (a = parameter 0, b = parameter 1), batch
   x = 1, 1, loss z_0 - z_1 (a linear, hence C1, loss).  The network is well
   formed, a batched bias network, and its kinked neuron is dense; L = 0 is
   differentiable at 0 with gradient 0; both copies are on the kink with the
   same pre-activation; AD with the per-copy choice D = (1, 0) gives 1 for b. *)
Theorem T6_dense_every_choice_fails :
  wf dfail_net /\ batch_bias dfail_base 2 dfail_xs /\ kinked_dense dfail_base /\
  (forall v, net_eval dfail_net v = 0) /\
  differentiable_at 2 (net_eval dfail_net) vzero (fun _ => 0) /\
  (forall c, (c < 2)%nat -> is_kink (sigma dfail_net c) (preact dfail_net vzero c)) /\
  preact dfail_net vzero 0 = preact dfail_net vzero 1 /\
  ad dfail_net dfail_D vzero 1 = 1.
Proof. exact T6DenseFails.T6_dense_every_choice_fails. Qed.

(* Every neuron of an MLP with a bias on every layer is dense: its
   pre-activation sum_j W[i][j] z_j + b_i is linear in the parameters with
   parameter-free coefficients, and its parameters occur in no other
   neuron. *)
Theorem mlp_kinked_dense (x0 : list R) (ls : list layer) :
  all_biased ls -> kinked_dense (mlp x0 ls).
Proof. exact (BatchMLP.mlp_kinked_dense x0 ls). Qed.

(* Hence T6 for every choice for batched MLPs: for an MLP with a bias on
   every layer (and at least one neuron), any batch, any C1 loss and every
   choice function D_k of the base neuron and the pre-activation (no
   theta-uniformity; e.g. PyTorch's hardtanh'(+-1) = 0), AD_D L = grad L
   wherever L is differentiable. *)
Theorem T6_mlp_every_choice (x0 : list R) (ls : list layer) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params (mlp x0 ls)) (n_size (batch_neurons (mlp x0 ls) B xs)))
  (Dk : nat -> R -> R) (w g : vec) :
  all_biased ls -> (0 < n_size (mlp x0 ls))%nat ->
  differentiable_at (n_params (mlp x0 ls)) (c1_eval (batch_net (mlp x0 ls) B xs loss)) w g ->
  forall p, (p < n_params (mlp x0 ls))%nat ->
    ad_c1 (batch_net (mlp x0 ls) B xs loss)
      (fun c => Dk (c mod n_size (mlp x0 ls)) (preact (batch_neurons (mlp x0 ls) B xs) w c)) w p = g p.
Proof.
  intros Hb HN; apply (T6DenseCorrect.T6_dense_ad_correct_fun (mlp x0 ls) B xs loss
    (BatchMLP.mlp_wf_neurons x0 ls HN) (BatchMLP.mlp_batch_bias x0 ls B xs Hb) (BatchMLP.mlp_kinked_dense x0 ls Hb)).
Qed.

(* Non-vacuity of T6_dense_every_choice: the dense relu neuron relu(a x + b)
   (a = parameter 0, b = parameter 1), batch x = 1, 1, 2, loss
   z_0 - z_1 + z_2, meets its hypotheses (well formed, batched bias network,
   kinked neurons dense); L(a, b) = relu(2a + b) is not differentiable at
   (0, 0), and at (1, -1), where copies 0 and 1 are on the kink, L is
   differentiable with gradient (2, 1). *)
Theorem T6_dense_nonvacuous :
  wf nvd_net /\ wf_neurons dfail_base /\ batch_bias dfail_base 3 nvd_xs /\ kinked_dense dfail_base /\
  (forall v, net_eval nvd_net v = Rmax 0 (2 * v 0%nat + v 1%nat)) /\
  ~ differentiable 2 (net_eval nvd_net) vzero /\
  differentiable_at 2 (net_eval nvd_net) nvd_w (fun i => if Nat.eq_dec i 0 then 2 else 1) /\
  (forall c, (c < 2)%nat -> is_kink (sigma nvd_net c) (preact nvd_net nvd_w c)).
Proof. exact NonVacuityDense.T6_dense_nonvacuous. Qed.

(* The mean cross-entropy of a batch as a C1 output of the batched network:
   base logit neurons lsb (non-empty, all below the base size Nb), copy i of
   base neuron k is neuron i * Nb + k, targets y_i.  mean_ce (built from
   ce_output, c1_plus and c1_scal) has value
   (1/B) sum_(i<B) [ln sum_(k in lsb) e^(z_(i Nb + k)) - sum_k y_i(k) z_(i Nb + k)],
   derivative 0 in every parameter, and derivative
   (softmax_k of copy i - y_i(k)) / B in the logit z_(i Nb + k). *)
Theorem C1_instance_mean_cross_entropy (W Nb B : nat) (lsb : list nat) (y : nat -> nat -> R)
  (Hls : lsb <> []) (Hlt : forall k, In k lsb -> (k < Nb)%nat) (w z : vec) :
  NoDup lsb ->
  c1_g (mean_ce W Nb B lsb y Hls Hlt) (pack W w z) =
    / INR B * sumn B (fun i => ln (sum_list (map (fun k => exp (z (i * Nb + k)%nat)) lsb)) -
                               sum_list (map (fun k => y i k * z (i * Nb + k)%nat) lsb)) /\
  (forall p, (p < W)%nat -> c1_dg (mean_ce W Nb B lsb y Hls Hlt) (pack W w z) p = 0) /\
  (forall i k, (i < B)%nat -> In k lsb ->
     c1_dg (mean_ce W Nb B lsb y Hls Hlt) (pack W w z) (W + (i * Nb + k))%nat =
     / INR B * (exp (z (i * Nb + k)%nat) / sum_list (map (fun k' => exp (z (i * Nb + k')%nat)) lsb) - y i k)).
Proof.
  intros Hnd; split; [apply mean_ce_value|]; split; [intros; now apply mean_ce_dw|].
  intros i k Hi Hk; now apply mean_ce_dz.
Qed.

(* The mean squared error of a batch as a C1 output of the batched network:
   output neuron o of the base network (o < Nb), copy i of it is neuron
   i * Nb + o, targets t_i.  mean_mse (built from a squared-error output,
   c1_plus and c1_scal) has value (1/B) sum_(i<B) (z_(i Nb + o) - t_i)^2,
   derivative 0 in every parameter, and derivative 2 (z_(i Nb + o) - t_i) / B
   in z_(i Nb + o). *)
Theorem C1_instance_mean_mse (W Nb B o : nat) (t : nat -> R) (Ho : (o < Nb)%nat) (w z : vec) :
  c1_g (mean_mse W Nb B o t Ho) (pack W w z) =
    / INR B * sumn B (fun i => (z (i * Nb + o)%nat - t i) * (z (i * Nb + o)%nat - t i)) /\
  (forall p, (p < W)%nat -> c1_dg (mean_mse W Nb B o t Ho) (pack W w z) p = 0) /\
  (forall i, (i < B)%nat ->
     c1_dg (mean_mse W Nb B o t Ho) (pack W w z) (W + (i * Nb + o))%nat = / INR B * (2 * (z (i * Nb + o)%nat - t i))).
Proof.
  split; [apply mean_mse_value|]; split; [intros; now apply mean_mse_dw|].
  intros i Hi; now apply mean_mse_dz.
Qed.
(* ==== Issue 18, item 3: smooth pre-activations ==== *)
(* Networks/SmoothTau.v, Theorems/SmoothTauTheorems.v.  Neuron k computes
   z_k = sigma_k(tau_k(w, z_<k)) with tau_k any C1 function on R^(W+N) given
   with its gradient ([c1_output], as the output g); AD back-propagates
   through the gradients of the tau_k and g at (w, z(w)).  A smooth-tau bias
   network ([st_bias_network]): every neuron whose activation has a kink has
   a parameter b_k with tau_k(w, z) = w_(b_k) + r_k(w without w_(b_k), z) and
   no other tau_j reading w_(b_k) (g may read every parameter). *)
From ADCorrect Require Import SmoothTau SmoothTauTheorems.

(* At every w, f is differentiable with gradient G iff the C1-output network
   whose neurons are the first-order Taylor polynomials of the tau_k at
   (w, z(w)) is: the two differ by o(|v - w|). *)
Theorem smooth_tau_differentiable_iff_linearised (sn : st_network) (w G : vec) :
  differentiable_at (st_W sn) (st_eval sn) w G <->
  differentiable_at (st_W sn) (c1_eval (lin_c1 sn w)) w G.
Proof. exact (st_differentiable_at_iff sn w G). Qed.

(* T5(b) for smooth pre-activations: if not NS(w) then f is differentiable
   at w with gradient AD_D f(w). *)
Theorem T5b_smooth_tau (sn : st_network) (D : nat -> R) (w : vec) :
  ~ st_NS sn D w -> differentiable_at (st_W sn) (st_eval sn) w (st_ad sn D w).
Proof. exact (T5b_st_not_NS_differentiable sn D w). Qed.

(* T5(c) for smooth pre-activations: if NS(w), and the largest kink neuron k
   with zbar_k <> 0 has a parameter p with d tau_k/d w_p <> 0 and
   d tau_j/d w_p = 0 for every other neuron j (at (w, z(w))), then f is not
   differentiable at w. *)
Theorem T5c_smooth_tau (sn : st_network) (D : nat -> R) (w : vec) :
  st_NS sn D w ->
  (forall k, In k (st_kink_neurons sn w) -> st_zbar sn D w k <> 0 ->
     (forall j, In j (st_kink_neurons sn w) -> (k < j)%nat -> st_zbar sn D w j = 0) ->
     exists p, (p < st_W sn)%nat /\ st_dw sn w k p <> 0 /\
       forall j, (j < st_N sn)%nat -> j <> k -> st_dw sn w j p = 0) ->
  ~ differentiable (st_W sn) (st_eval sn) w.
Proof. exact (T5c_st_NS_not_differentiable sn D w). Qed.

(* T3 for smooth pre-activations: in a smooth-tau bias network, f is not
   differentiable at w iff NS(w), for every choice D. *)
Theorem T3_ndf_iff_NS_smooth_tau (sn : st_network) (D : nat -> R) (w : vec) :
  st_bias_network sn ->
  ~ differentiable (st_W sn) (st_eval sn) w <-> st_NS sn D w.
Proof. intros Hb; exact (T3_st_ndf_iff_NS sn Hb D w). Qed.

(* T1 for smooth pre-activations: in a smooth-tau bias network, if f is
   differentiable at w with gradient G then AD_D f(w) = G, for every
   choice D. *)
Theorem T1_ad_correct_smooth_tau (sn : st_network) (D : nat -> R) (w G : vec) :
  st_bias_network sn ->
  differentiable_at (st_W sn) (st_eval sn) w G ->
  forall p, (p < st_W sn)%nat -> st_ad sn D w p = G p.
Proof. intros Hb; exact (T1_st_ad_correct sn Hb D w G). Qed.

(* T4 for smooth pre-activations: if every neuron of the smooth-tau network
   has its own bias (a parameter w_p with tau_k = w_p + a term free of w_p,
   read by no other tau_j) and at every kink neuron D k lies between the
   one-sided slopes, AD_D f(w) lies in the Clarke subdifferential of f at w
   (a convex combination of limits of gradients of f at points w_n -> w). *)
From ADCorrect Require Import SmoothTauClarke T4SmoothTau.
Theorem T4_ad_in_clarke_smooth_tau (sn : st_network) (D : nat -> R) (w : vec) :
  (forall k, (k < st_N sn)%nat -> exists p, st_bias_neuron sn k p) ->
  (forall k, In k (st_kink_neurons sn w) ->
     Rmin (slope_left (st_sigma sn k) (st_preact sn w k)) (slope_right (st_sigma sn k) (st_preact sn w k))
       <= D k <=
     Rmax (slope_left (st_sigma sn k) (st_preact sn w k)) (slope_right (st_sigma sn k) (st_preact sn w k))) ->
  in_clarke_fun (st_W sn) (st_eval sn) w (st_ad sn D w).
Proof. exact (T4_st_ad_in_clarke sn D w). Qed.

(* AD for smooth pre-activations is THEORY.md section 4's recursion with the
   partial derivatives of the tau_k and of g at (w, z(w)):
   zbar_k = dg/dz_k + sum_(j>k) ybar_j dtau_j/dz_k,
   ybar_k = zbar_k D sigma_k(y_k) (choice D k at a kink),
   AD_D f(w)_p = dg/dw_p + sum_k ybar_k dtau_k/dw_p. *)
Theorem smooth_tau_ad_equations (sn : st_network) (D : nat -> R) (w : vec) (k p : nat) :
  (k < st_N sn)%nat ->
  st_zbar sn D w k = st_dgz sn w k +
    sum_list (map (fun j => st_ybar sn D w j * st_dz sn w j k) (seq (S k) (st_N sn - S k))) /\
  st_ybar sn D w k = st_zbar sn D w k * act_deriv_choice (st_sigma sn k) (D k) (st_preact sn w k) /\
  ((p < st_W sn)%nat -> st_ad sn D w p = st_dgw sn w p +
    sum_list (map (fun j => st_ybar sn D w j * st_dw sn w j p) (seq 0 (st_N sn)))).
Proof. exact (st_ad_equations sn D w k p). Qed.

(* Training-mode BatchNorm (batch statistics couple the copies) breaks T6:
   for every eps > 0, the network bn_net of two copies (inputs 1 and -1) of
   one neuron u_i = x_i w + b, normalised with the batch mean and variance
   (the tau_i are exactly that BatchNorm formula), then relu, with loss
   z_1 - z_2, has: the bias b does not influence the normalised values
   (d tau_i / d b = 0, so no neuron has its own bias in the sense of T1/T3/T6);
   the loss is differentiable at w = b = 0 with gradient G; and AD with
   PyTorch's relu'(0) = 0 differs from G there. *)
From ADCorrect Require Import BatchNormTrain.
Theorem T6_batchnorm_train_fails (eps : R) (Heps : 0 < eps) :
  (forall u i, (i < 2)%nat -> c1_g (st_tau (bn_net eps Heps) i) u = bn_train eps (u 0%nat) (u 1%nat) i) /\
  (forall w k, (k < 2)%nat -> st_dw (bn_net eps Heps) w k 1 = 0) /\
  exists G, differentiable_at 2 (st_eval (bn_net eps Heps)) vzero G /\
            st_ad (bn_net eps Heps) (fun _ => 0) vzero 0%nat <> G 0%nat.
Proof. exact (T6_batchnorm_train_fails_at eps Heps). Qed.

(* The polynomial networks of Network.v are smooth-tau networks: with tau_k
   and g read as C1 functions of the packed (w, z) (gradient: the symbolic
   derivatives), st_of_net has, at every w and for every choice D, the same
   pre-activations, K(w), f, adjoints zbar_k and AD as the network; so the
   polynomial T1, T3, T5(b), T5(c) are special cases of the smooth-tau ones. *)
From ADCorrect Require Import SmoothTauInstance.
Theorem C1_tau_instance_polynomial (net : network) (Hwf : wf net) (D : nat -> R) (w : vec) :
  (forall k, st_preact (st_of_net net Hwf) w k = preact net w k) /\
  st_kink_neurons (st_of_net net Hwf) w = kink_neurons net w /\
  st_eval (st_of_net net Hwf) w = net_eval net w /\
  (forall k, (k < n_size net)%nat -> st_zbar (st_of_net net Hwf) D w k = zbar net D w k) /\
  (forall p, (p < n_params net)%nat -> st_ad (st_of_net net Hwf) D w p = ad net D w p).
Proof. exact (st_of_net_same net Hwf D w). Qed.

(* LayerNorm over a layer of width 2 is a smooth pre-activation: for eps > 0
   and neurons a, b, layernorm2 is a C1 function of the packed (w, z) (a
   [c1_output]) whose value is (z_a - mean)/sqrt(var + eps) (mean, var of
   z_a, z_b) and whose gradient is phi'((z_a - z_b)/2) (e_a - e_b)/2 with
   phi(s) = s / sqrt(s^2 + eps). *)
From ADCorrect Require Import LayerNorm2.
Theorem smooth_tau_instance_layernorm2 (eps : R) (W N a b : nat) (Heps : 0 < eps)
  (Ha : (a < N)%nat) (Hb : (b < N)%nat) (u : vec) :
  c1_g (layernorm2 eps W N a b Heps) u = ln2_formula eps (u (W + a)%nat) (u (W + b)%nat) /\
  c1_dg (layernorm2 eps W N a b Heps) u =
    vscale (bn_dphi eps ((u (W + a)%nat - u (W + b)%nat) / 2)) (ln2_coef W a b).
Proof. exact (layernorm2_spec eps W N a b Heps Ha Hb u). Qed.

(* LayerNorm of any width n >= 1 is a smooth pre-activation: for eps > 0 and
   entries x_j = z_(ix j) (j < n, ix j < N) of the packed (w, z), entry i < n,
   layernorm is a C1 function of (w, z) (a [c1_output]) whose value is
   (x_i - mean)/sqrt(var + eps) and whose partial derivatives are, for
   distinct indices ix, d/dx_j = (delta_ij - 1/n - y_i y_j / n)/sqrt(var + eps)
   (y the normalised entries) and 0 in every other coordinate. *)
From ADCorrect Require Import C1Algebra LayerNorm.
Theorem smooth_tau_instance_layernorm (eps : R) (W N n : nat) (ix : nat -> nat) (i : nat)
  (Heps : 0 < eps) (Hn : (0 < n)%nat) (Hix : forall j, (j < n)%nat -> (ix j < N)%nat) (Hi : (i < n)%nat)
  (Hinj : forall j l, (j < n)%nat -> (l < n)%nat -> ix j = ix l -> j = l) (u : vec) :
  c1_g (layernorm eps W N n ix i Heps Hn) u = ln_formula eps n (ln_entries W ix u) i /\
  (forall j, (j < n)%nat ->
     c1_dg (layernorm eps W N n ix i Heps Hn) u (W + ix j)%nat =
     ((if Nat.eq_dec i j then 1 else 0) - 1 / INR n
      - ln_formula eps n (ln_entries W ix u) i * ln_formula eps n (ln_entries W ix u) j / INR n)
     / sqrt (ln_var n (ln_entries W ix u) + eps)) /\
  (forall k, (forall j, (j < n)%nat -> k <> (W + ix j)%nat) ->
     c1_dg (layernorm eps W N n ix i Heps Hn) u k = 0).
Proof.
  split; [|split].
  - exact (layernorm_eval eps W N n ix i Heps Hn Hix Hi u).
  - intros j Hj; exact (layernorm_partial eps W N n ix i Heps Hn Hix Hi Hinj u j Hj).
  - intros k Hk; exact (layernorm_partial_other eps W N n ix i Heps Hn Hix Hi u k Hk).
Qed.

(* Softmax attention weights are a smooth pre-activation: for one query and
   n >= 1 keys with scores s_l = z_(ix l) (l < n, ix l < N) in the packed
   (w, z), the weight of key j < n, softmax, is a C1 function of (w, z) (a
   [c1_output]) whose value is exp(s_j) / sum_l exp(s_l) and whose partial
   derivatives are, for distinct indices ix, d/ds_l = p_j (delta_jl - p_l)
   (p the weights) and 0 in every other coordinate. *)
From ADCorrect Require Import Softmax.
Theorem smooth_tau_instance_softmax (W N n : nat) (ix : nat -> nat) (j : nat)
  (Hn : (0 < n)%nat) (Hix : forall l, (l < n)%nat -> (ix l < N)%nat) (Hj : (j < n)%nat)
  (Hinj : forall a b, (a < n)%nat -> (b < n)%nat -> ix a = ix b -> a = b) (u : vec) :
  c1_g (softmax W N n ix j Hn) u = sm_formula n (sm_scores W ix u) j /\
  (forall l, (l < n)%nat ->
     c1_dg (softmax W N n ix j Hn) u (W + ix l)%nat =
     sm_formula n (sm_scores W ix u) j *
       ((if Nat.eq_dec j l then 1 else 0) - sm_formula n (sm_scores W ix u) l)) /\
  (forall k, (forall l, (l < n)%nat -> k <> (W + ix l)%nat) ->
     c1_dg (softmax W N n ix j Hn) u k = 0).
Proof.
  split; [|split].
  - exact (softmax_eval W N n ix j Hn Hix Hj u).
  - intros l Hl; exact (softmax_partial W N n ix j Hn Hix Hj Hinj u l Hl).
  - intros k Hk; exact (softmax_partial_other W N n ix j Hn Hix Hj u k Hk).
Qed.
(* ==== Issue 18, items 1 and 3: T7 and T6 over smooth pre-activations ==== *)
(* Theorems/SmoothTied.v, SmoothTiedBatch.v, SmoothTiedBatchBuild.v,
   SmoothTiedInstance.v.  A
   tied-bias smooth-tau network (st_tied_bias sn cls bias): neurons in
   classes cls c; tau_c does not read z_j (j < c) unless cls j < cls c; every
   class K containing a neuron whose activation has a kink has a parameter
   bias K < W with tau_c(upd u (bias K) t) = tau_c(u) + (t - u_(bias K)) for
   every neuron c of K (tau_c = w_(bias K) + a C1 function not reading it)
   and tau_c(upd u (bias K) t) = tau_c(u) for every neuron of another class. *)
From Coq Require Import Lia.
From ADCorrect Require Import SmoothTied SmoothTiedBatch SmoothTiedBatchBuild SmoothTiedInstance.

(* T7 for smooth pre-activations: in a tied-bias smooth-tau network, with a
   choice function Dn c theta-uniform per class (at every kink y of sigma_c,
   Dn c y = sigma_c'_-(y) + theta_(cls c) (sigma_c'_+(y) - sigma_c'_-(y))),
   if f is differentiable at w with gradient g then AD f(w) = g. *)
Theorem T7_tied_ad_correct_smooth_tau (sn : st_network) (cls bias : nat -> nat)
  (theta : nat -> R) (Dn : nat -> R -> R) (w g : vec) :
  st_tied_bias sn cls bias ->
  (forall c y, (c < st_N sn)%nat -> is_kink (st_sigma sn c) y ->
     Dn c y = slope_left (st_sigma sn c) y +
              theta (cls c) * (slope_right (st_sigma sn c) y - slope_left (st_sigma sn c) y)) ->
  differentiable_at (st_W sn) (st_eval sn) w g ->
  forall p, (p < st_W sn)%nat -> st_ad sn (fun c => Dn c (st_preact sn w c)) w p = g p.
Proof. intros Ht; exact (st_T7_tied_ad_correct sn cls bias Ht theta Dn w g). Qed.

(* The count bound for tied-bias smooth-tau networks: over a grid M^W (M
   without repetitions) at most n |M|^(W-1) points where f is not
   differentiable, n = sum over the neurons of the number of kinks of sigma_c. *)
Theorem T7_tied_count_bound_smooth_tau (sn : st_network) (cls bias : nat -> nat) (M : list R) :
  st_tied_bias sn cls bias -> NoDup M ->
  (count (fun u => ~ differentiable (st_W sn) (st_eval sn) (word_vec u)) (words M (st_W sn))
   <= st_kink_total sn * length M ^ (st_W sn - 1))%nat.
Proof. intros Ht; exact (st_T7_tied_count_bound sn cls bias Ht M). Qed.

(* T6 for smooth pre-activations: sn is the batch of base neurons k < N
   (activation bsig k; C1 pre-activation btau i k of (w, z_base) for example
   i < B) over B examples: neuron i N + k has activation bsig k and
   pre-activation btau i k of (w, z_(iN), ..., z_(iN+N-1)); the output is any
   C1 loss.  If every kinked base neuron k has a parameter b_k entering
   every btau i k with coefficient 1 and no btau i j (j <> k), then for
   choices Dk k theta-uniform for bsig k, AD of the loss is its gradient
   wherever the loss is differentiable. *)
Theorem T6_batch_ad_correct_smooth_tau (sn : st_network) (B N : nat)
  (btau : nat -> nat -> c1_output (st_W sn) N) (bsig : nat -> activation)
  (Dk : nat -> R -> R) (w g : vec) :
  st_batch_of sn B N btau bsig -> st_batch_bias sn B N btau bsig ->
  (forall k, (k < N)%nat -> theta_uniform (bsig k) (Dk k)) ->
  differentiable_at (st_W sn) (st_eval sn) w g ->
  forall p, (p < st_W sn)%nat -> st_ad sn (fun c => Dk (c mod N) (st_preact sn w c)) w p = g p.
Proof. exact (st_T6_batch_ad_correct sn B N btau bsig Dk w g). Qed.

(* The batch of T6_batch_ad_correct_smooth_tau exists for every base, and T6
   for smooth pre-activations holds with hypotheses on the base only.  For
   base pre-activations btau i k : c1_output W N (i < B, k < N), activations
   bsig k and any C1 loss out of (w, z) in R^(W+B N), st_batch W B N btau
   bsig out is the smooth-tau network whose neuron i N + k has activation
   bsig k and pre-activation btau i k o batch_sel W N i (C1 with the pulled
   back gradient: d/dw_p at p < W, d/dz_j at W + i N + j, 0 elsewhere); it
   is st_batch_of its base.  If every kinked base neuron k has a parameter
   b_k < W entering every btau i k with coefficient 1 and no btau i j
   (j <> k) (st_base_bias), then for choices Dk k theta-uniform for bsig k,
   AD of the loss is its gradient wherever the loss is differentiable. *)
Theorem T6_batch_ad_correct_smooth_tau_built (W B N : nat)
  (btau : nat -> nat -> c1_output W N) (bsig : nat -> activation) (out : c1_output W (B * N))
  (Dk : nat -> R -> R) (w g : vec) :
  st_base_bias W B N btau bsig ->
  (forall k, (k < N)%nat -> theta_uniform (bsig k) (Dk k)) ->
  let sn := st_batch W B N btau bsig out in
  st_batch_of sn B N btau bsig /\
  (differentiable_at W (st_eval sn) w g ->
   forall p, (p < W)%nat -> st_ad sn (fun c => Dk (c mod N) (st_preact sn w c)) w p = g p).
Proof.
  intros Hb Hu sn; split; [apply st_batch_is_batch_of|].
  exact (st_T6_batch_built_ad_correct W B N btau bsig out Dk w g Hb Hu).
Qed.

(* Non-vacuity: parameters (w0, w1, b), identity neurons z0 = w0, z1 = w1,
   one class of two relu neurons y2 = b + LN(z0, z1)_0, y3 = b + LN(z0, z1)_1
   (LayerNorm of width 2, eps = 1) sharing the bias b, output f = w0 (z2 + z3):
   a tied-bias smooth-tau network (classes 0, 1, 2, 2; bias b of class 2)
   that is not differentiable at (1, 1, 0), where both relu neurons sit on
   their kink, and is differentiable at 0, where both sit on their kink too. *)
Theorem smooth_tau_layernorm_nonvacuity :
  st_tied_bias lnt_net lnt_cls lnt_bias /\
  (forall i u, (i < 2)%nat ->
     c1_g (st_tau lnt_net (2 + i)) u = u 2%nat + c1_g (layernorm 1 3 4 2 (fun j => j) i Rlt_0_1 lnt_two_pos) u /\
     c1_g (layernorm 1 3 4 2 (fun j => j) i Rlt_0_1 lnt_two_pos) u = ln_formula 1 2 (fun j => u (3 + j)%nat) i) /\
  (forall v, st_eval lnt_net v =
     v 0%nat * (Rmax 0 (v 2%nat + ln_formula 1 2 v 0) + Rmax 0 (v 2%nat + ln_formula 1 2 v 1))) /\
  In 2%nat (st_kink_neurons lnt_net lnt_w1) /\ In 3%nat (st_kink_neurons lnt_net lnt_w1) /\
  ~ differentiable 3 (st_eval lnt_net) lnt_w1 /\
  In 2%nat (st_kink_neurons lnt_net vzero) /\ In 3%nat (st_kink_neurons lnt_net vzero) /\
  differentiable 3 (st_eval lnt_net) vzero.
Proof.
  split; [exact lnt_tied|]; split; [|split; [exact lnt_eval|]].
  - intros i u Hi; split; [|apply lnt_ln_g, Hi].
    rewrite lnt_tau_ln, <- lnt_ln_g by exact Hi; reflexivity.
  - split; [apply (lnt_kinked lnt_w1 0); reflexivity || lia|].
    split; [apply (lnt_kinked lnt_w1 1); reflexivity || lia|].
    split; [exact lnt_not_differentiable|].
    split; [apply (lnt_kinked vzero 0); reflexivity || lia|].
    split; [apply (lnt_kinked vzero 1); reflexivity || lia|].
    exact lnt_differentiable.
Qed.

(* ==== Issue 18, items 5-7: decidable tests, counts, tightness, T5(d) ==== *)
From Coq Require QArith Qreals.
From ADCorrect Require Import T6Tight T5d.
From ADCorrect Require QAct QNet QAD QDecide Examples QBatch BatchEqual BatchInc BatchExamples BatchCertified.

(* ---- Item 6: how tight the batched bound is; distinct inputs ------------- *)

(* Only distinct inputs count: if every input xs i (i < B) of the batch is
   equal to the input of one of the examples listed in reps (all < B), then
   |ndf_M(L)| <= |reps| n |M|^(W-1), for every batched bias network
   (wf_neurons, batch_bias) and every C1 loss. *)
Theorem T6_batch_count_bound_distinct_inputs (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (reps : list nat) (M : list R) :
  wf_neurons net -> batch_bias net B xs -> NoDup M ->
  (forall j, In j reps -> (j < B)%nat) ->
  (forall i, (i < B)%nat -> exists j, In j reps /\ xs i = xs j) ->
  (count (fun u => ~ differentiable (n_params net) (c1_eval (batch_net net B xs loss)) (word_vec u))
     (words M (n_params net))
   <= length reps * kink_total net * length M ^ (n_params net - 1))%nat.
Proof.
  intros Hwf Hb HM HrB Hr; exact (T6Tight.T6_batch_count_bound_reps net B xs loss reps Hwf Hb HrB Hr M HM).
Qed.

(* In particular with B equal inputs the factor B of T6_batch_count_bound
   drops to 1: |ndf_M(L)| <= n |M|^(W-1). *)
Theorem T6_batch_bound_needs_distinct_inputs (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (M : list R) :
  wf_neurons net -> batch_bias net B xs -> NoDup M ->
  (forall i, (i < B)%nat -> xs i = xs 0%nat) ->
  (count (fun u => ~ differentiable (n_params net) (c1_eval (batch_net net B xs loss)) (word_vec u))
     (words M (n_params net))
   <= kink_total net * length M ^ (n_params net - 1))%nat.
Proof. exact (T6Tight.T6_batch_count_bound_equal_inputs net B xs loss M). Qed.

(* The family (T6Tight.v): base network bt_base a W, one neuron y = w_0 + x
   with activation a and W >= 1 parameters (w_0 is its bias, a batched bias
   network), batch x_0 .. x_(B-1) (bt_xs x), loss the sum of the B outputs
   (bt_net a W B x HW, a batch_net with a C1 loss):
   L(w) = sum_(i<B) a(w_0 + x_i). *)
Theorem T6_batch_family_loss (a : activation) (W B : nat) (x : nat -> R) (HW : (1 <= W)%nat) (w : vec) :
  wf_neurons (bt_base a W) /\ batch_bias (bt_base a W) B (bt_xs x) /\
  kink_total (bt_base a W) = length (kinks a) /\
  c1_eval (bt_net a W B x HW) w = sumn B (fun i => act_eval a (w 0%nat + x i)).
Proof.
  split; [exact (T6Tight.bt_base_wf a W HW)|]; split; [exact (T6Tight.bt_bias a W B x HW)|].
  split; [exact (T6Tight.bt_kink_total a W HW) | exact (T6Tight.bt_eval a W B x HW w)].
Qed.

(* Its exact count: |ndf_M(L)| = |{b in M : sum_i (a'_+ - a'_-)(b + x_i) <> 0}| |M|^(W-1)
   (bt_jump a B x b = sum_(i<B) jump a (b + x_i), jump a c = a'_+(c) - a'_-(c)). *)
Theorem T6_batch_family_count (a : activation) (W B : nat) (x : nat -> R) (M : list R) (HW : (1 <= W)%nat) :
  count (fun u => ~ differentiable W (c1_eval (bt_net a W B x HW)) (word_vec u)) (words M W) =
  (count (fun b => bt_jump a B x b <> 0%R) M * length M ^ (W - 1))%nat.
Proof. exact (T6Tight.T6_batch_family_count a W B x M HW). Qed.

(* Tightness: when the B m values c - x_i (i < B, c one of the m kinks of a)
   are pairwise distinct and lie in M (M duplicate-free), the family has
   exactly B n |M|^(W-1) non-differentiable points (n = m = kink_total): the
   batched bound of T6_batch_count_bound is attained. *)
Theorem T6_batch_bound_tight (a : activation) (W B : nat) (x : nat -> R) (M : list R) (HW : (1 <= W)%nat) :
  NoDup M ->
  (forall i j c c', (i < B)%nat -> (j < B)%nat -> is_kink a c -> is_kink a c' ->
     c - x i = c' - x j -> i = j) ->
  (forall i c, (i < B)%nat -> is_kink a c -> In (c - x i) M) ->
  count (fun u => ~ differentiable W (c1_eval (bt_net a W B x HW)) (word_vec u)) (words M W) =
  (B * kink_total (bt_base a W) * length M ^ (W - 1))%nat.
Proof. exact (T6Tight.T6_batch_bound_tight a W B x M HW). Qed.

(* With B >= 1 equal inputs (and the c - x_0 in M) the same family has
   exactly n |M|^(W-1) non-differentiable points: the bound of
   T6_batch_bound_needs_distinct_inputs is attained too. *)
Theorem T6_batch_family_equal_inputs (a : activation) (W B : nat) (x : nat -> R) (M : list R) (HW : (1 <= W)%nat) :
  (1 <= B)%nat -> NoDup M ->
  (forall i, (i < B)%nat -> x i = x 0%nat) ->
  (forall c, is_kink a c -> In (c - x 0%nat) M) ->
  count (fun u => ~ differentiable W (c1_eval (bt_net a W B x HW)) (word_vec u)) (words M W) =
  (kink_total (bt_base a W) * length M ^ (W - 1))%nat.
Proof. exact (T6Tight.T6_batch_family_equal_inputs a W B x M HW). Qed.

(* ---- Item 7: T5(d), bias-free dense networks ----------------------------- *)

(* The chain (T5d.v): input x = 1, L >= 1 one-unit layers without biases,
   z_0 = w_0 x, z_k = w_k z_(k-1), identity activations except relu on the
   last unit, f = its output: f(w) = relu(w_0 ... w_(L-1)) = Rmax 0 (prodn L w),
   W = L parameters, one kink in total (n = 1). *)
Theorem T5d_chain_network (L : nat) (w : vec) :
  (1 <= L)%nat ->
  wf (chain_net L) /\ n_params (chain_net L) = L /\ kink_total (chain_net L) = 1%nat /\
  net_eval (chain_net L) w = Rmax 0 (prodn L w).
Proof.
  intros HL; split; [exact (T5d.chain_wf L HL)|]; split; [reflexivity|].
  split; [exact (T5d.chain_kink_total L HL)|].
  rewrite (T5d.chain_eval L HL w); apply relu_eval.
Qed.

(* f is not differentiable at w iff exactly one of w_0 .. w_(L-1) is 0 (with
   two zeros f(w + h) = O(|h|^2) although the relu unit is at its kink with a
   non-zero adjoint: NS(w) holds, T3's test fails without biases). *)
Theorem T5d_chain_ndf_iff (L : nat) (w : vec) :
  (1 <= L)%nat ->
  (~ differentiable L (net_eval (chain_net L)) w <->
   exists j, (j < L)%nat /\ w j = 0 /\ forall i, (i < L)%nat -> i <> j -> w i <> 0).
Proof. exact (T5d.chain_net_ndf_iff L w). Qed.

(* Exact count, M duplicate-free with 0 in M: |ndf_M(f)| = L (|M| - 1)^(L-1),
   about L n |M|^(W-1): the constant of a T2-type bound must grow with depth. *)
Theorem T5d_chain_count (L : nat) (M : list R) :
  (1 <= L)%nat -> NoDup M -> In 0 M ->
  count (fun u => ~ differentiable (n_params (chain_net L)) (net_eval (chain_net L)) (word_vec u))
    (words M (n_params (chain_net L))) = (L * (length M - 1) ^ (L - 1))%nat.
Proof. exact (T5d.T5d_chain_count L M). Qed.

(* T5(d), negative answer: no bound c n |M|^(W-1) with a universal constant c
   holds for bias-free networks (for T2's bias networks c = 1 works): for
   every c there is a well-formed bias-free chain with n = 1 and a finite M
   (duplicate-free, 0 in M) with more than c n |M|^(W-1) non-differentiable
   points. *)
Theorem T5d_uniform_bound_fails (c : nat) :
  exists L M, NoDup M /\ In 0 M /\ wf (chain_net L) /\ kink_total (chain_net L) = 1%nat /\
    (c * kink_total (chain_net L) * length M ^ (n_params (chain_net L) - 1) <
     count (fun u => ~ differentiable (n_params (chain_net L)) (net_eval (chain_net L)) (word_vec u))
       (words M (n_params (chain_net L))))%nat.
Proof. exact (T5d.T5d_uniform_bound_fails c). Qed.

(* ---- Item 5: a decidable test and certified counts for batched networks -- *)

Section BatchCounts.
Import QArith Qreals QAct QNet QAD QDecide QBatch BatchEqual BatchInc Examples BatchExamples.
Open Scope R_scope.

(* The computable N&S test of QBatch.v for the family above with an
   activation of QAct.v and rational inputs xs (qbt_network a W xs: the
   batched neurons with the sum loss as a polynomial output, the same
   function as bt_net, T6_batch_family_loss): at every rational point u,
   L is differentiable iff qbt_differentiable a xs u_0 = true, i.e. the
   rational slope jumps sum_i (a'_+ - a'_-)(u_0 + x_i) of the copies cancel
   (the copies form one group of equal tangent forms, T6_differentiable_iff_groups). *)
Theorem computable_batch_differentiable_iff (a : qact) (W : nat) (xs u : list Q) :
  (1 <= W)%nat ->
  (differentiable W (net_eval (qbt_network a W xs)) (qpoint u) <->
   qbt_differentiable a xs (nth 0 u 0%Q) = true).
Proof. exact (QBatch.computable_batch_differentiable_iff a W xs u). Qed.

(* ... and the points where L is differentiable but AD with the choice d at
   every copy (qbt_choice d) is not its gradient *)
Theorem computable_batch_inc_iff (a : qact) (d : Q) (W : nat) (xs u : list Q) :
  (1 <= W)%nat ->
  ((exists g, differentiable_at W (net_eval (qbt_network a W xs)) (qpoint u) g /\
      exists p, (p < W)%nat /\ ad (qbt_network a W xs) (qbt_choice d) (qpoint u) p <> g p) <->
   qbt_inc a d xs (nth 0 u 0%Q) = true).
Proof. exact (QBatch.qbt_inc_correct a d W xs u). Qed.

(* qbt_tally counts both over M (they depend on w_0 only): ndf_count and
   inc_count over M^W are those numbers times |M|^(W-1). *)
Theorem computable_batch_counts (a : qact) (d : Q) (W : nat) (xs M : list Q) (n i : nat) :
  (1 <= W)%nat -> qbt_tally a d xs M = (n, i) ->
  ndf_count (qbt_network a W xs) (map Q2R M) = (n * length M ^ (W - 1))%nat /\
  inc_count (qbt_network a W xs) (qbt_choice d) (map Q2R M) = (i * length M ^ (W - 1))%nat.
Proof. exact (QBatch.qbt_tally_correct a d W xs M n i). Qed.

(* Certified counts (BatchCertified.v, vm_compute), exported by
   check_proofs.py as "certified_batched" rows.  net_t6_hardtanh_batch:
   examples/t6-hardtanh.json with examples/t6-hardtanh-batch.npz and the sum
   loss, L(b) = hardtanh(b - 1) + hardtanh(b + 1); torch_X: PyTorch's
   hardtanh'(+-1) = 0 at every copy.  Non-differentiable at b = +-2; at b = 0
   differentiable (the jumps +1, -1 cancel) with L'(0) = 1, AD 0. *)
Theorem certified_t6_hardtanh_batch :
  ndf_count net_t6_hardtanh_batch M_fp_2_2 = 2%nat /\
  inc_count net_t6_hardtanh_batch torch_t6_hardtanh_batch M_fp_2_2 = 1%nat /\
  ndf_count net_t6_hardtanh_batch M_e2m1 = 2%nat /\
  inc_count net_t6_hardtanh_batch torch_t6_hardtanh_batch M_e2m1 = 1%nat /\
  ndf_count net_t6_hardtanh_batch M_list_m1_0_1 = 0%nat /\
  inc_count net_t6_hardtanh_batch torch_t6_hardtanh_batch M_list_m1_0_1 = 1%nat.
Proof.
  repeat split; [exact (proj1 BatchCertified.tally_t6_hardtanh_batch_fp_2_2) |
    exact (proj2 BatchCertified.tally_t6_hardtanh_batch_fp_2_2) |
    exact (proj1 BatchCertified.tally_t6_hardtanh_batch_e2m1) |
    exact (proj2 BatchCertified.tally_t6_hardtanh_batch_e2m1) |
    exact (proj1 BatchCertified.tally_t6_hardtanh_batch_list_m1_0_1) |
    exact (proj2 BatchCertified.tally_t6_hardtanh_batch_list_m1_0_1)].
Qed.

(* net_conv1d_hardtanh: a one-channel 1-d convolution, kernel (1, 1) frozen,
   bias b, signal (1, -1, 0, 2), hardtanh, sum over the 3 positions:
   L(b) = hardtanh(b) + hardtanh(b - 1) + hardtanh(b + 2).  At b = -1 two
   positions are kinked and their jumps cancel (AD 0, L'(-1) = 1). *)
Theorem certified_conv1d_hardtanh :
  ndf_count net_conv1d_hardtanh M_fp_2_2 = 4%nat /\
  inc_count net_conv1d_hardtanh torch_conv1d_hardtanh M_fp_2_2 = 1%nat /\
  ndf_count net_conv1d_hardtanh M_e2m1 = 4%nat /\
  inc_count net_conv1d_hardtanh torch_conv1d_hardtanh M_e2m1 = 1%nat.
Proof.
  repeat split; [exact (proj1 BatchCertified.tally_conv1d_hardtanh_fp_2_2) |
    exact (proj2 BatchCertified.tally_conv1d_hardtanh_fp_2_2) |
    exact (proj1 BatchCertified.tally_conv1d_hardtanh_e2m1) |
    exact (proj2 BatchCertified.tally_conv1d_hardtanh_e2m1)].
Qed.

(* Equal inputs (BatchEqual.v): if every example of the batch is the input
   xs 0 and the loss o (a polynomial of the copies' outputs, neurons below
   B N) is given as the output of the batched neurons, the batched network is
   the base network on xs 0 with the collapsed loss (copy c read as base
   neuron c mod N, inputs of o as 0): the same function of w. *)
Theorem batch_equal_inputs_collapse (net : network) (B : nat) (xs : nat -> nat -> R) (o : expr) (w : vec) :
  wf_neurons net -> (forall i, (i < B)%nat -> xs i = xs 0%nat) -> neurons_below (B * n_size net) o ->
  net_eval (with_out (batch_neurons net B xs) o) w = net_eval (collapsed_net net (xs 0%nat) o) w.
Proof. intros Hwf Heq Ho; exact (BatchEqual.batch_equal_inputs_eval net B xs o Hwf Heq Ho w). Qed.

(* The exact test for batched bias networks with equal inputs (B >= 1, a
   loss without parameters): L is not differentiable at w iff NS(w) in the
   collapsed network (a bias network: T3), for every choice D; computable at
   rational points by computable_NS_iff when the networks are over Q. *)
Theorem T6_batch_equal_inputs_ndf_iff_NS (net : network) (B : nat) (xs : nat -> nat -> R) (o : expr)
  (D : nat -> R) (w : vec) :
  wf_neurons net -> (forall i, (i < B)%nat -> xs i = xs 0%nat) -> neurons_below (B * n_size net) o ->
  (1 <= B)%nat -> batch_bias net B xs -> (forall p, ~ occurs_param p o) -> (0 < n_size net)%nat ->
  (~ differentiable (n_params net) (net_eval (with_out (batch_neurons net B xs) o)) w <->
   NS (collapsed_net net (xs 0%nat) o) D w).
Proof.
  intros Hwf Heq Ho HB Hb Hop HN.
  exact (BatchEqual.batch_equal_inputs_ndf_iff_NS net B xs o Hwf Heq Ho HB Hb Hop D w HN).
Qed.

(* ... and over Q (computable_NS_iff's style): for a base network bq over Q
   (qwf), B >= 1 copies on its own input, a loss oq over the copies without
   parameters, batch biases: L is differentiable at the rational point u iff
   the computable qNS of the collapsed network qcollapsed bq oq is false. *)
Theorem computable_batch_equal_inputs_iff (bq : qnet) (B : nat) (oq : qexpr) (dq u : list Q) :
  wf_neurons (to_network bq) -> (1 <= B)%nat ->
  batch_bias (to_network bq) B (fun _ => n_input (to_network bq)) ->
  (forall p, ~ occurs_param p (to_expr oq)) -> neurons_below (B * qsize bq) (to_expr oq) ->
  (0 < qsize bq)%nat ->
  (differentiable (q_params bq) (net_eval (qbatched bq B oq)) (qpoint u) <->
   qNS (qcollapsed bq oq) dq u = false).
Proof. exact (BatchEqual.computable_batch_equal_inputs_iff bq B oq dq u). Qed.

(* T6 on counts (BatchInc.v): a batched bias network whose base activations
   have at most one kink, with a polynomial loss o (the batched network
   well formed), has inc_M = 0 for every choice d k per base neuron k used
   at all its copies. *)
Theorem T6_batch_inc_count_one_kink (net : network) (B : nat) (xs : nat -> nat -> R) (o : expr)
  (Hwfo : wf (with_out (batch_neurons net B xs) o)) (d : nat -> R) (M : list R) :
  wf_neurons net -> batch_bias net B xs ->
  (forall k, (k < n_size net)%nat -> forall c c', is_kink (sigma net k) c -> is_kink (sigma net k) c' -> c = c') ->
  inc_count (with_out (batch_neurons net B xs) o) (fun c => d (c mod n_size net)) M = 0%nat.
Proof. exact (BatchInc.batch_inc_count_one_kink net B xs o Hwfo d M). Qed.

(* examples/theory-8.1.json with examples/theory-8.1-batch.npz (x = 1, 1,
   targets 1, -1) and MSE: L(a, b, c, d) = (c relu(a + b) + d)^2 + 1 is not
   differentiable iff a + b = 0, c <> 0 and d <> 0 (per-copy NS is not the
   test: at (0, 0, 1, 0) both copies have non-zero adjoints, L is
   differentiable).  ndf counted by BatchEqual.v and QDecide.v's classifier;
   inc = 0 by T6_batch_inc_count_one_kink (PyTorch's relu'(0) = 0). *)
Theorem certified_theory_8_1_batch :
  ndf_count net_theory_8_1_batch M_list_m1_0_1 = 12%nat /\
  inc_count net_theory_8_1_batch torch_theory_8_1_batch M_list_m1_0_1 = 0%nat /\
  ndf_count net_theory_8_1_batch M_fp_2_2 = 1100%nat /\
  inc_count net_theory_8_1_batch torch_theory_8_1_batch M_fp_2_2 = 0%nat /\
  ndf_count net_theory_8_1_batch M_e2m1 = 2940%nat /\
  inc_count net_theory_8_1_batch torch_theory_8_1_batch M_e2m1 = 0%nat.
Proof.
  repeat split; [exact BatchCertified.ndf_theory_8_1_batch_list_m1_0_1 |
    exact (BatchCertified.inc_theory_8_1_batch M_list_m1_0_1) |
    exact BatchCertified.ndf_theory_8_1_batch_fp_2_2 |
    exact (BatchCertified.inc_theory_8_1_batch M_fp_2_2) |
    exact BatchCertified.ndf_theory_8_1_batch_e2m1 |
    exact (BatchCertified.inc_theory_8_1_batch M_e2m1)].
Qed.

End BatchCounts.
