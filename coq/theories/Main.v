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
