(* T1-T4 of THEORY.md section 5 for dense MLPs (section 3: "A dense MLP
   layer is y_l = W_l z_(l-1) + b_l"), in the form a reader of the paper
   looks for: an MLP (MLP.v) with a bias on every layer and at least one unit
   is a well-formed bias network, and its n = sum_k |ndf(sigma_k)| is
   sum over layers of (width x number of kinks of the layer's activation). *)
From Coq Require Import Reals Lra Lia List.
From ADCorrect Require Import Vec Frechet Activation Network MLP AD Counting Clarke T2 T3 T1 T4.
Import ListNotations.
Open Scope R_scope.

(** * n for an MLP *)

Lemma list_sum_flat_map {A B : Type} (g : B -> nat) (F : A -> list B) (l : list A) :
  list_sum (map g (flat_map F l)) = list_sum (map (fun a => list_sum (map g (F a))) l).
Proof. induction l as [|a l IH]; [reflexivity|]; simpl; rewrite map_app, list_sum_app, IH; reflexivity. Qed.

Lemma list_sum_repeat {A : Type} (g : A -> nat) (a : A) (n : nat) :
  list_sum (map g (repeat a n)) = (n * g a)%nat.
Proof. induction n as [|n IH]; [reflexivity|]; simpl; rewrite IH; reflexivity. Qed.

(* n = sum over layers of width x |kinks of the layer's activation| *)
Theorem mlp_kink_total (xs : list R) (ls : list layer) :
  kink_total (mlp xs ls) =
  list_sum (map (fun l => layer_units l * length (kinks (layer_act l)))%nat ls).
Proof.
  unfold kink_total, n_size, sigma.
  rewrite (list_sum_nth_seq (fun e => length (kinks (snd e)))).
  rewrite <- (map_map snd (fun a => length (kinks a))); simpl n_neurons; rewrite mlp_neurons_acts.
  rewrite list_sum_flat_map; f_equal; apply map_ext; intros l.
  rewrite list_sum_repeat; reflexivity.
Qed.

(** * T1-T4 for MLPs with biases *)

Section MLPTheorems.
Variables (xs : list R) (ls : list layer).
Hypothesis Hbias : all_biased ls.
Hypothesis Hunits : exists l, In l ls /\ (0 < layer_units l)%nat.

Let net := mlp xs ls.

Lemma mlp_hyps : wf net /\ bias_network net.
Proof. split; [apply mlp_wf_units, Hunits | apply mlp_bias_network, Hbias]. Qed.

Theorem T1_mlp_ad_correct (D : nat -> R) (w g : vec) :
  differentiable_at (n_params net) (net_eval net) w g ->
  forall p, (p < n_params net)%nat -> ad net D w p = g p.
Proof. destruct mlp_hyps as [Hw Hb]; exact (T1_ad_correct net D w g Hw Hb). Qed.

Theorem T2_mlp_ndf_count_bound (M : list R) :
  NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
     (words M (n_params net))
   <= list_sum (map (fun l => layer_units l * length (kinks (layer_act l)))%nat ls) *
      length M ^ (n_params net - 1))%nat.
Proof.
  intros HM; destruct mlp_hyps as [Hw Hb]; unfold net; rewrite <- (mlp_kink_total xs ls).
  exact (T2_ndf_count_bound _ M Hw Hb HM).
Qed.

Theorem T3_mlp_ndf_iff_NS (D : nat -> R) (w : vec) :
  ~ differentiable (n_params net) (net_eval net) w <-> NS net D w.
Proof. destruct mlp_hyps as [Hw Hb]; exact (T3 net D w Hw Hb). Qed.

Theorem T4_mlp_ad_in_clarke (D : nat -> R) (w : vec) :
  (forall k, In k (kink_neurons net w) ->
     Rmin (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))
       <= D k <=
     Rmax (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))) ->
  in_clarke net w (ad net D w).
Proof. destruct mlp_hyps as [Hw Hb]; exact (T4_ad_in_clarke net D w Hw Hb). Qed.

End MLPTheorems.
